/**
 * npm run bench:lambda [-- --runs=N]
 *
 * Measures the Lambda artifacts that ship: `npm run build`'s directories (dist/lambda/<name>), each
 * packaged as SST packages it (its resource.enc beside index.mjs; see test/infra/shipped-lambda.ts),
 * so a cold import includes reading the function's configuration as in AWS. Each is imported in
 * fresh `node` processes, interleaved with a bare `node -e 0` measured in the same run; the API's two
 * alternative SDK placements are measured alongside for comparison (not shipped). Prints the table,
 * the zipped size SST uploads, and what the API bundle is made of.
 *
 * Targets: cold import ≤ 150 ms over bare node; size as small as the dependencies allow.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { deflateRawSync } from 'node:zlib'
import { RESOURCE_NAMES } from '../packages/core/src/runtime-config.ts'
import { buildLambda, type BuiltBundle, type SdkMode } from '../scripts/build.ts'
import { packageLikeSst } from '../test/infra/shipped-lambda.ts'
import { printTable } from './table.ts'

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 15)
const TARGET_IMPORT_MS = 150

// What the functions' resource.enc would hold: names and ARNs only.
const LINKS = {
  [RESOURCE_NAMES.table]: { name: 'bench', type: 'sst.sst.Linkable' },
  [RESOURCE_NAMES.key]: { id: 'k', arn: 'arn:aws:kms:us-east-1:111122223333:key/k', type: 'sst.sst.Linkable' },
  [RESOURCE_NAMES.task]: {
    cluster: 'arn:aws:ecs:us-east-1:111122223333:cluster/bench',
    containers: ['Worker'],
    taskDefinition: 'arn:aws:ecs:us-east-1:111122223333:task-definition/bench:1',
    subnets: ['subnet-1'],
    securityGroups: ['sg-1'],
    assignPublicIp: true,
    type: 'sst.sst.Linkable',
  },
}

console.log('building (npm run build, plus two SDK alternatives for comparison)…')
rmSync('dist/bench/packaged', { recursive: true, force: true })
const shipped = await buildLambda()
const alternatives: Partial<Record<SdkMode, BuiltBundle>> = {
  external: (await buildLambda({ sdk: 'external', outDir: 'dist/bench/sdk-external' })).find((b) => b.name === 'api'),
  bundle: (await buildLambda({ sdk: 'bundle', outDir: 'dist/bench/sdk-bundle' })).find((b) => b.name === 'api'),
}

interface Case {
  name: string
  file?: string
  env: Record<string, string | undefined>
  bytes?: number
  zipped?: number
  wall: number[]
}
const baseEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AWS_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  LOG_LEVEL: 'silent',
  // The stream subscriber's delivery function (plain environment in its deployed configuration).
  WEBHOOK_DELIVER_FUNCTION: 'arn:aws:lambda:us-east-1:111122223333:function:bench-deliver',
}
const asShipped = (name: string, b: BuiltBundle): Case => {
  // Inside the repo: its node_modules stand in for the runtime's SDK, which only the
  // "from the runtime" alternative loads.
  const { dir, env } = packageLikeSst(dirname(b.file), LINKS, 'dist/bench/packaged')
  const code = readFileSync(b.file)
  return { name, file: join(dir, 'index.mjs'), env: { ...baseEnv, ...env }, bytes: statSync(b.file).size, zipped: deflateRawSync(code, { level: 9 }).length, wall: [] }
}
const cases: Case[] = [
  { name: 'node -e 0 (floor)', env: baseEnv, wall: [] },
  ...shipped.map((b) => asShipped(`${b.name} (shipped)`, b)),
  ...Object.entries(alternatives).map(([mode, b]) => asShipped(`api, SDK ${mode === 'external' ? 'from the runtime' : 'fully bundled'} (not shipped)`, b!)),
]

const argsOf = (c: Case) => (c.file ? ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(c.file).href)})`] : ['-e', '0'])
for (let i = 0; i < runs + 1; i++) {
  for (const c of cases) {
    const start = process.hrtime.bigint()
    const r = spawnSync(process.execPath, argsOf(c), { env: c.env, cwd: c.file ? dirname(c.file) : undefined, encoding: 'utf8' })
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (r.status !== 0) throw new Error(`${c.name} failed: ${r.stderr}`)
    if (i > 0) c.wall.push(ms) // the first round warms the OS file cache
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const floor = median(cases[0].wall)
printTable(`Lambda cold import, node ${process.version}, ${runs} runs each, medians`, cases.map((c) => ({
  bundle: c.name,
  'KB': c.bytes === undefined ? '-' : (c.bytes / 1024).toFixed(1),
  'zipped KB': c.zipped === undefined ? '-' : (c.zipped / 1024).toFixed(1),
  'process ms': median(c.wall).toFixed(1),
  'x floor': (median(c.wall) / floor).toFixed(2),
  'import ms (process - floor)': c.file ? (median(c.wall) - floor).toFixed(1) : '-',
})))

// What the shipped API bundle is made of, by package.
const api = shipped.find((b) => b.name === 'api')!
const byPackage = new Map<string, number>()
for (const output of Object.values(api.metafile.outputs)) {
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)
    const pkg = m ? m[1] : input.startsWith('packages/') ? `(ours) ${input.split('/').slice(0, 2).join('/')}` : input
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput)
  }
}
const top = [...byPackage.entries()].sort((a, b) => b[1] - a[1])
const shown = top.slice(0, 14)
const rest = top.slice(14).reduce((s, [, n]) => s + n, 0)
printTable('What the shipped API bundle holds (minified bytes by package)', [
  ...shown.map(([pkg, n]) => ({ package: pkg, KB: (n / 1024).toFixed(1) })),
  { package: `${top.length - shown.length} more`, KB: (rest / 1024).toFixed(1) },
])

const worst = Math.max(...cases.filter((c) => c.name.endsWith('(shipped)')).map((c) => median(c.wall) - floor))
console.log(`\nshipped bundles: slowest cold import ${worst.toFixed(1)} ms over bare node (target ≤ ${TARGET_IMPORT_MS}) → ${worst <= TARGET_IMPORT_MS ? 'OK' : 'OVER TARGET'}`)
if (worst > TARGET_IMPORT_MS) process.exitCode = 1
