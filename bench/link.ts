/**
 * `npm run bench:link`: time from POST /v1/links to the first QR visible through GET, against the
 * simulator, through the real API, launcher and worker processes: 20 links one after another,
 * then 10 at once. The floor, measured in the same run: a bare process that imports Baileys and
 * connects to the simulator until its first QR. Target: p50 ≤ 1.5 × the floor's p50.
 */
import { spawn } from 'node:child_process'
import { createLogger } from '@wa-link-broker/core'
import { LogCapture } from '../test/support/api.ts'
import { PRELOAD_PATH, startSimulator } from '../test/wa-sim/index.ts'
import { startDynamoDbLocal } from '../scripts/dynamodb-local.ts'
import { startLocalStack } from '../scripts/local-stack.ts'
import { percentile, printTable } from './table.ts'

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 20)
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 10)
process.env.DATA_KEY ??= Buffer.alloc(32, 1).toString('base64')
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const dynamo = await startDynamoDbLocal()
const sim = await startSimulator({ refs: 6 })
const logs = new LogCapture()
const stack = await startLocalStack({
  config: { tableName: 'bench-link', region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint },
  port: 0,
  logger: createLogger({ level: 'info' }, logs),
  workerEnv: { WA_WS_URL: sim.url, NODE_OPTIONS: `--import ${PRELOAD_PATH}`, LOG_LEVEL: 'info' },
  maxWorkers: 20,
  limits: { createPerMinute: 1000 },
})
const auth = { authorization: `Bearer ${stack.apiKey}` }

async function floorOnce(): Promise<number> {
  const started = performance.now()
  const child = spawn(process.execPath, ['--import', PRELOAD_PATH, 'bench/first-qr-floor.mjs'], { env: { ...process.env, WA_WS_URL: sim.url }, stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).startsWith('qr') && resolve())
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`floor client exited ${code}`))))
  })
  const elapsed = performance.now() - started
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))
  return elapsed
}

/** POST, then poll GET until the first QR shows: what a client waits for. */
async function linkOnce(): Promise<{ ms: number; id: string; qr: string; postedAt: number }> {
  const started = performance.now()
  const postedAt = Date.now()
  const res = await fetch(`${stack.url}/v1/links`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' })
  const { link } = await res.json()
  while (performance.now() - started < 30_000) {
    const view = await (await fetch(`${stack.url}/v1/links/${link.id}`, { headers: auth })).json()
    if (view.qr) return { ms: performance.now() - started, id: link.id, qr: view.qr.value, postedAt }
    if (view.pollAfterMs === null) throw new Error(`link ended: ${JSON.stringify(view.error)}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`no QR within 30 s for ${link.id}:\n${logs.lines.slice(-20).join('\n')}`)
}

/** Scans the link to completion so its worker exits and reports its peak RSS. */
async function finish(id: string, qr: string) {
  await sim.scan(qr)
  for (;;) {
    const view = await (await fetch(`${stack.url}/v1/links/${id}`, { headers: auth })).json()
    if (view.status === 'linked') return
    await new Promise((r) => setTimeout(r, 50))
  }
}

const stats = (name: string, values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return { measurement: name, runs: values.length, 'p50 ms': percentile(sorted, 50), 'p95 ms': percentile(sorted, 95), 'max ms': sorted[sorted.length - 1] }
}

try {
  await floorOnce() // warm the disk cache for both
  const floor: number[] = []
  for (let i = 0; i < SEQUENTIAL; i++) floor.push(await floorOnce())
  // Ten workers starting at once share two cores: compare them with ten bare processes at once.
  const floorConcurrent = await Promise.all(Array.from({ length: CONCURRENT }, () => floorOnce()))

  const sequential: number[] = []
  const sequentialRuns: Awaited<ReturnType<typeof linkOnce>>[] = []
  for (let i = 0; i < SEQUENTIAL; i++) {
    const run = await linkOnce()
    sequential.push(run.ms)
    sequentialRuns.push(run)
    await finish(run.id, run.qr)
  }
  const concurrentRuns = await Promise.all(Array.from({ length: CONCURRENT }, () => linkOnce()))
  await Promise.all(concurrentRuns.map((run) => finish(run.id, run.qr)))
  while (stack.launcher.running() > 0) await new Promise((r) => setTimeout(r, 100))

  const rss = logs.lines.map((line) => JSON.parse(line)).filter((e) => e.maxRssKb).map((e) => e.maxRssKb / 1024)
  const rows = [
    stats('floor: bare Baileys process → first QR, one after another', floor),
    stats(`POST → first QR via GET, ${SEQUENTIAL} one after another`, sequential),
    stats(`floor: ${CONCURRENT} bare Baileys processes at once`, floorConcurrent),
    stats(`POST → first QR via GET, ${CONCURRENT} at once`, concurrentRuns.map((r) => r.ms)),
  ]
  printTable('Time to first QR (simulator, DynamoDB Local, worker child processes)', rows)
  // Where a sequential link's time goes, from the API's and the workers' own log timestamps.
  const entries = logs.lines.map((line) => JSON.parse(line))
  const at = (id: string, match: (e: Record<string, unknown>) => boolean) => entries.find((e) => (e.worker === id || e.linkId === id) && match(e))?.time as number
  const phases = sequentialRuns.map((run) => {
    const spawned = at(run.id, (e) => e.msg === 'worker started')
    const claimed = at(run.id, (e) => e.msg === 'claimed link')
    const qr = at(run.id, (e) => e.msg === 'qr issued')
    return { launch: spawned - run.postedAt, boot: claimed - spawned, connect: qr - claimed, read: run.ms - (qr - run.postedAt) }
  })
  const median = (k: keyof (typeof phases)[0]) => percentile(phases.map((p) => p[k]).sort((a, b) => a - b), 50)
  printTable('Sequential runs, median ms per phase', [
    { phase: 'POST → worker process spawned', ms: median('launch') },
    { phase: 'spawn → link claimed (Node + imports + claim)', ms: median('boot') },
    { phase: 'claimed → first QR stored', ms: median('connect') },
    { phase: 'QR stored → seen by the polling GET', ms: median('read') },
  ])
  const ratio = rows[1]['p50 ms'] / rows[0]['p50 ms']
  console.log(`\nsequential p50 / floor p50: ${ratio.toFixed(2)} (target ≤ 1.50) ${ratio <= 1.5 ? 'MET' : 'NOT MET'}`)
  const concurrentRatio = rows[3]['p50 ms'] / rows[2]['p50 ms']
  console.log(`concurrent p50 / concurrent floor p50: ${concurrentRatio.toFixed(2)} (target ≤ 1.50) ${concurrentRatio <= 1.5 ? 'MET' : 'NOT MET'}`)
  console.log(`worker peak RSS over ${rss.length} workers: max ${Math.max(...rss).toFixed(0)} MB, median ${percentile([...rss].sort((a, b) => a - b), 50).toFixed(0)} MB`)
} finally {
  await stack.stop()
  await sim.close()
  await dynamo.stop()
}
