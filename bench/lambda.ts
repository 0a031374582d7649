/**
 * npm run bench:lambda [-- --runs=N]
 *
 * Builds the API Lambda bundle two ways (AWS SDK v3 from the nodejs22.x runtime vs bundled in),
 * then times a cold import of each in fresh `node` processes against a bare `node -e 0` measured
 * in the same run, interleaved so machine noise hits all alike. Prints a table with ratios and
 * checks the targets: bundle ≤ 700 KB minified, cold import ≤ 150 ms (process wall time minus
 * the bare node start).
 */
import { spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { buildLambda, type SdkMode } from '../scripts/build.ts'

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 15)
const TARGET_KB = 700
const TARGET_IMPORT_MS = 150

const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AWS_REGION: 'us-east-1',
  TABLE_NAME: 'bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  LOG_LEVEL: 'silent',
  // lambda.ts refuses to start without a worker task and key; these are what SST links would give.
  KMS_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/bench',
  ECS_CLUSTER: 'arn:aws:ecs:us-east-1:111122223333:cluster/bench',
  ECS_TASK_DEFINITION: 'arn:aws:ecs:us-east-1:111122223333:task-definition/bench:1',
  ECS_SUBNETS: 'subnet-1',
  ECS_SECURITY_GROUPS: 'sg-1',
  ECS_ASSIGN_PUBLIC_IP: 'true',
}

console.log('building…')
const CHOSEN: SdkMode = 'hot'
const builds = {
  external: await buildLambda({ sdk: 'external', outDir: 'dist/bench/sdk-external' }),
  hot: await buildLambda({ sdk: 'hot', outDir: 'dist/bench/sdk-hot' }),
  bundle: await buildLambda({ sdk: 'bundle', outDir: 'dist/bench/sdk-bundle' }),
}
const label: Record<SdkMode, string> = {
  external: 'AWS SDK from the runtime',
  hot: 'SDK hot path bundled, lazy credential providers from the runtime',
  bundle: 'AWS SDK bundled',
}

interface Case {
  name: string
  args: string[]
  bytes?: number
  wall: number[]
  inner: number[]
}
const importCode = (file: string) =>
  `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});process.stdout.write(String(performance.now()-t))`
const cases: Case[] = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'], wall: [], inner: [] },
  ...(['api', 'sweeper'] as const).flatMap((fn, i) =>
    (Object.keys(builds) as SdkMode[]).map((mode) => [`${fn}: ${label[mode]}${mode === CHOSEN ? ' (chosen)' : ''}`, builds[mode][i].file]),
  ).map(([name, file]) => ({
    name,
    args: ['--input-type=module', '-e', importCode(file)],
    bytes: statSync(resolve(file)).size,
    wall: [] as number[],
    inner: [] as number[],
  })),
]

for (let i = 0; i < runs + 1; i++) {
  for (const c of cases) {
    const start = process.hrtime.bigint()
    const r = spawnSync(process.execPath, c.args, { env, encoding: 'utf8' })
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (r.status !== 0) throw new Error(`${c.name} failed: ${r.stderr}`)
    if (i === 0) continue // warm the OS file cache; not counted
    c.wall.push(ms)
    if (r.stdout) c.inner.push(Number(r.stdout))
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const base = median(cases[0].wall)
const rows = cases.map((c) => {
  const wall = median(c.wall)
  return {
    bundle: c.name,
    'size KB': c.bytes === undefined ? '-' : (c.bytes / 1024).toFixed(1),
    'process ms (median)': wall.toFixed(1),
    'x baseline': (wall / base).toFixed(2),
    'import ms (wall - baseline)': c.bytes === undefined ? '-' : (wall - base).toFixed(1),
    'import() ms in-process': c.inner.length ? median(c.inner).toFixed(1) : '-',
  }
})
console.log(`\nnode ${process.version}, ${runs} runs each, medians\n`)
console.table(rows)

const chosen = cases.find((c) => c.name.startsWith('api') && c.name.endsWith('(chosen)'))!
const sizeKb = chosen.bytes! / 1024
const importMs = median(chosen.wall) - base
const ok = sizeKb <= TARGET_KB && importMs <= TARGET_IMPORT_MS
console.log(
  `\nchosen API bundle: ${sizeKb.toFixed(1)} KB (target ≤ ${TARGET_KB}) · cold import ${importMs.toFixed(1)} ms over bare node (target ≤ ${TARGET_IMPORT_MS}) → ${ok ? 'OK' : 'OVER TARGET'}`,
)
if (!ok) process.exitCode = 1
