/**
 * `npm run bench:link`: time from POST /v1/links to the first QR, against the simulator, through
 * the real API, dispatcher and worker processes (the production worker bundle), on DynamoDB Local.
 *
 * Floors, measured in the same run:
 * - warm floor: a process that already has Baileys loaded, connecting until its first QR;
 * - cold floor: a bare process that imports Baileys and connects until its first QR.
 * Paths:
 * - warm host: POST → first QR visible through GET, one link after another (target p50 ≤ 1.25 × warm floor);
 * - 50 links at once on one host: time to first QR (from the host's own log) and the RSS each
 *   extra session adds to the host (target ≤ 10 MB);
 * - cold (WARM_WORKERS=0, one process per link), as before hosts: sequential and 10 at once.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import { DEFAULT_CONNECTION_CONFIG } from 'baileys'
import { LocalKeyProvider } from '@wa-link-broker/core/crypto'
import { createLogger } from '@wa-link-broker/core/logger'
import { createDocumentClient, ensureTable } from '@wa-link-broker/core/store'
import { LogCapture } from '../test/support/api.ts'
import { PRELOAD_PATH, startSimulator } from '../test/wa-sim/index.ts'
import { startDynamoDbLocal } from '../scripts/dynamodb-local.ts'
import { startLocalStack, type LocalStack } from '../scripts/local-stack.ts'
import { percentile, printTable } from './table.ts'

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 20)
const BURST = Number(process.env.BENCH_BURST ?? 50)
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 10)
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const dynamo = await startDynamoDbLocal()
const sim = await startSimulator({ refs: 6 })
// The version pinned as the tests do: a worker never asks web.whatsapp.com (no internet here).
// The API and the workers share one local master key.
const DATA_KEY = Buffer.alloc(32, 1)
const workerEnv = { WA_WS_URL: sim.url, NODE_OPTIONS: `--import ${PRELOAD_PATH}`, LOG_LEVEL: 'info', WA_VERSION: DEFAULT_CONNECTION_CONFIG.version.join('.'), DATA_KEY: DATA_KEY.toString('base64') }

async function stackOf(name: string, warmWorkers: number) {
  const logs = new LogCapture()
  const stack = await startLocalStack({
    config: { tableName: `bench-link-${name}`, region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint },
    keys: new LocalKeyProvider(DATA_KEY),
    port: 0,
    logger: createLogger({ level: 'info' }, logs),
    workerEnv,
    warmWorkers,
    maxWorkers: 20,
    limits: { createPerMinute: 10_000, activeLinks: 1000 },
  })
  return { stack, logs, auth: { authorization: `Bearer ${stack.apiKey}` } }
}

function floorProcess(runs: number) {
  return spawn(process.execPath, ['--import', PRELOAD_PATH, 'bench/first-qr-floor.mjs'], {
    env: { ...process.env, WA_WS_URL: sim.url, FLOOR_RUNS: String(runs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
}

/** The warm floor: one process imports Baileys once, then connects `runs` times; each connection timed. */
async function warmFloor(runs: number): Promise<number[]> {
  const child = floorProcess(runs)
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const code = await new Promise((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`floor client exited ${code}`)
  return out.trim().split('\n').map((line) => Number(line.split(' ')[1]))
}

/** The cold floor: from spawning a process to its first QR. */
async function coldFloor(): Promise<number> {
  const started = performance.now()
  const child = floorProcess(1)
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).startsWith('qr') && resolve())
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`floor client exited ${code}`))))
  })
  const elapsed = performance.now() - started
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))
  return elapsed
}

/** POST, then poll GET until the first QR shows: what a client waits for. */
async function linkOnce({ stack, logs, auth }: Awaited<ReturnType<typeof stackOf>>): Promise<{ ms: number; id: string; qr: string; postedAt: number }> {
  const started = performance.now()
  const postedAt = Date.now()
  const res = await fetch(`${stack.url}/v1/links`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' })
  const { link } = await res.json()
  while (performance.now() - started < 60_000) {
    const view = await (await fetch(`${stack.url}/v1/links/${link.id}`, { headers: auth })).json()
    if (view.qr) return { ms: performance.now() - started, id: link.id, qr: view.qr.value, postedAt }
    if (view.pollAfterMs === null) throw new Error(`link ended: ${JSON.stringify(view.error)}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`no QR within 60 s for ${link.id}:\n${logs.lines.slice(-20).join('\n')}`)
}

async function cancel(stack: LocalStack, auth: Record<string, string>, id: string) {
  await fetch(`${stack.url}/v1/links/${id}`, { method: 'DELETE', headers: auth })
}

/**
 * The DynamoDB calls a warm link cannot do without, back to back on the same DynamoDB Local: create
 * the link, offer it to the host, the host's poll, the claim, the QR write, the client's GET.
 */
async function storeFloor(runs: number): Promise<number[]> {
  const doc = createDocumentClient({ dynamodbEndpoint: dynamo.endpoint })
  const TableName = 'bench-link-store-floor'
  await ensureTable(doc, TableName)
  const times: number[] = []
  for (let i = 0; i <= runs; i++) {
    const Key = { pk: `LINK#floor${i}`, sk: 'LINK' }
    const host = { pk: 'HOST#floor', sk: 'HOST' }
    const started = performance.now()
    await doc.send(new PutCommand({ TableName, Item: { ...Key, status: 'pending', version: 1 }, ConditionExpression: 'attribute_not_exists(pk)' }))
    await doc.send(new UpdateCommand({ TableName, Key: host, UpdateExpression: 'ADD links :id', ExpressionAttributeValues: { ':id': new Set([`l${i}`]) } }))
    await doc.send(new GetCommand({ TableName, Key: host, ConsistentRead: true }))
    await doc.send(new UpdateCommand({ TableName, Key, UpdateExpression: 'SET #s = :s, version = version + :one', ConditionExpression: '#s = :p', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': 'starting', ':p': 'pending', ':one': 1 } }))
    await doc.send(new UpdateCommand({ TableName, Key, UpdateExpression: 'SET #s = :s, qr = :qr', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': 'awaiting_scan', ':qr': { value: 'x', sequence: 1 } } }))
    await doc.send(new GetCommand({ TableName, Key, ConsistentRead: true }))
    if (i > 0) times.push(performance.now() - started)
  }
  return times
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024
const stats = (name: string, values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return { measurement: name, runs: values.length, 'p50 ms': percentile(sorted, 50), 'p95 ms': percentile(sorted, 95), 'max ms': sorted[sorted.length - 1] }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const stacks: Awaited<ReturnType<typeof stackOf>>[] = []
try {
  await coldFloor() // warm the disk cache
  const floorRuns = await warmFloor(SEQUENTIAL + 1)
  floorRuns.shift() // the first connection of a process pays for JIT warm-up, as a host's first link does
  const store = await storeFloor(SEQUENTIAL)
  const cold: number[] = []
  for (let i = 0; i < Math.min(SEQUENTIAL, 10); i++) cold.push(await coldFloor())

  // ---- warm: one host, links one after another
  const warm = await stackOf('warm', 1)
  stacks.push(warm)
  const [host] = warm.stack.launcher.processes()
  await cancel(warm.stack, warm.auth, (await linkOnce(warm)).id) // the host's first link, as above
  const sequentialRuns: Awaited<ReturnType<typeof linkOnce>>[] = []
  for (let i = 0; i < SEQUENTIAL; i++) {
    const run = await linkOnce(warm)
    sequentialRuns.push(run)
    await cancel(warm.stack, warm.auth, run.id)
  }
  await sleep(1000)

  // ---- 50 at once on the same host
  const idleRss = rssMb(host.pid!)
  const burstAt = Date.now()
  const posted = await Promise.all(
    Array.from({ length: BURST }, async () => {
      const res = await fetch(`${warm.stack.url}/v1/links`, { method: 'POST', headers: { ...warm.auth, 'content-type': 'application/json' }, body: '{}' })
      return (await res.json()).link.id as string
    }),
  )
  const qrAt = new Map<string, number>()
  while (qrAt.size < posted.length && Date.now() - burstAt < 120_000) {
    for (const line of warm.logs.lines.slice(-4000)) {
      if (!line.includes('"qr issued"')) continue
      const entry = JSON.parse(line)
      if (posted.includes(entry.linkId) && !qrAt.has(entry.linkId)) qrAt.set(entry.linkId, entry.time)
    }
    await sleep(100)
  }
  await sleep(1000)
  const busyRss = rssMb(host.pid!)
  const onHost = new Set(warm.logs.lines.filter((l) => l.includes('"claimed link"')).map((l) => JSON.parse(l)).filter((e) => posted.includes(e.linkId)).map((e) => e.hostId))
  await Promise.all(posted.map((id) => cancel(warm.stack, warm.auth, id)))

  // ---- cold: one process per link, as before hosts
  await warm.stack.stop()
  stacks.length = 0
  const coldStack = await stackOf('cold', 0)
  stacks.push(coldStack)
  const coldRuns: number[] = []
  for (let i = 0; i < Math.min(SEQUENTIAL, 10); i++) {
    const run = await linkOnce(coldStack)
    coldRuns.push(run.ms)
    await cancel(coldStack.stack, coldStack.auth, run.id)
  }
  const coldBurst = await Promise.all(Array.from({ length: CONCURRENT }, () => linkOnce(coldStack)))
  await Promise.all(coldBurst.map((r) => cancel(coldStack.stack, coldStack.auth, r.id)))

  const rows = [
    stats('warm floor: Baileys already loaded, connect → first QR', floorRuns),
    stats('store floor: the 6 DynamoDB calls of a warm link, back to back', store),
    stats('warm host: POST → first QR via GET, one after another', sequentialRuns.map((r) => r.ms)),
    stats(`warm host: ${BURST} POSTs at once → first QR stored (host log)`, posted.filter((id) => qrAt.has(id)).map((id) => qrAt.get(id)! - burstAt)),
    stats('cold floor: new process, import Baileys, connect → first QR', cold),
    stats('cold (WARM_WORKERS=0): POST → first QR via GET, one after another', coldRuns),
    stats(`cold (WARM_WORKERS=0): ${CONCURRENT} at once`, coldBurst.map((r) => r.ms)),
  ]
  printTable('Time to first QR (simulator, DynamoDB Local, worker processes from the production bundle)', rows)

  const entries = warm.logs.lines.map((line) => JSON.parse(line))
  const at = (id: string, msg: string) => entries.find((e) => e.linkId === id && e.msg === msg)?.time as number
  const phases = sequentialRuns.map((run) => {
    const dispatched = at(run.id, 'link dispatched to a warm host')
    const claimed = at(run.id, 'claimed link')
    const qr = at(run.id, 'qr issued')
    return { dispatch: dispatched - run.postedAt, claim: claimed - dispatched, connect: qr - claimed, read: run.ms - (qr - run.postedAt) }
  })
  const median = (k: keyof (typeof phases)[0]) => percentile(phases.map((p) => p[k]).sort((a, b) => a - b), 50)
  printTable('Warm host, one after another: median ms per phase', [
    { phase: 'POST → dispatched to the host (create + offer)', ms: median('dispatch') },
    { phase: 'dispatched → claimed (host poll + claim)', ms: median('claim') },
    { phase: 'claimed → first QR stored (auth state + handshake)', ms: median('connect') },
    { phase: 'QR stored → seen by the polling GET', ms: median('read') },
  ])

  const ratio = rows[2]['p50 ms'] / rows[0]['p50 ms']
  console.log(`\nwarm host p50 / warm floor p50: ${ratio.toFixed(2)} (target ≤ 1.25) ${ratio <= 1.25 ? 'MET' : 'NOT MET'}`)
  const perSession = (busyRss - idleRss) / BURST
  console.log(`${BURST} at once: ${qrAt.size}/${BURST} reached a QR, on ${onHost.size} host(s); host RSS ${idleRss.toFixed(0)} MB idle → ${busyRss.toFixed(0)} MB busy: ${perSession.toFixed(1)} MB per extra session (target ≤ 10) ${perSession <= 10 ? 'MET' : 'NOT MET'}`)
  console.log(`warm host p50 / (warm floor + store floor) p50: ${(rows[2]['p50 ms'] / (rows[0]['p50 ms'] + rows[1]['p50 ms'])).toFixed(2)}`)
  console.log(`cold path p50 / warm host p50: ${(rows[5]['p50 ms'] / rows[2]['p50 ms']).toFixed(1)}×`)
} finally {
  for (const s of stacks) await s.stack.stop()
  await sim.close()
  await dynamo.stop()
}
