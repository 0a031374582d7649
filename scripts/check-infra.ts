/**
 * npm run check:infra — what `npm test` cannot do without SST's generated platform types (.ci/run
 * calls this after npm test, which already runs test/infra: the config's shape and IAM, the shipped
 * bundles invoked as AWS invokes them, the Dockerfile, runtime config).
 *
 * 1. SST's platform types: `sst install` (offline; ~30 s, ~320 MB under .sst/, git-ignored) only
 *    when .sst/platform/config.d.ts is missing.
 * 2. tsc over sst.config.ts against those types (tsconfig.sst.json, skipLibCheck): wrong component
 *    arguments fail here.
 * 3. The same check on a broken copy (a CPU size SST does not offer, a misspelled option) must fail,
 *    naming both: so step 2 can fail.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(fileURLToPath(import.meta.url), '../..')
const started = Date.now()
const tsc = join(root, 'node_modules/typescript/bin/tsc')

function step(title: string, run: () => string | undefined) {
  const t = Date.now()
  console.log(`\n▶ ${title}`)
  const failure = run()
  if (failure !== undefined) {
    console.error(`${failure}\n✗ ${title} failed`)
    process.exit(1)
  }
  console.log(`✓ ${title} (${((Date.now() - t) / 1000).toFixed(1)} s)`)
}

/** tsc over a config source against .sst/platform's types; tsc's output, '' when clean. */
function typecheckSstConfig(source: string): { ok: boolean; output: string } {
  const dir = join(root, '.sst', 'check', `c${process.pid}-${Date.now()}`)
  mkdirSync(dir, { recursive: true })
  const rewritten = source
    .replace('./.sst/platform/config.d.ts', '../../platform/config.d.ts')
    .replaceAll("'./packages/", "'../../../packages/")
    .replaceAll("'./scripts/", "'../../../scripts/")
  writeFileSync(join(dir, 'sst.config.ts'), rewritten)
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../../tsconfig.sst.json', files: ['sst.config.ts'] }))
  try {
    const r = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' })
    return { ok: r.status === 0, output: (r.stdout + r.stderr).trim() }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (!existsSync(join(root, '.sst/platform/config.d.ts'))) {
  step('sst install (platform types, offline)', () => {
    const r = spawnSync(join(root, 'node_modules/.bin/sst'), ['install'], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, SST_SKIP_DEPENDENCY_CHECK: '1', SST_NO_BUN: '1', SST_TELEMETRY_DISABLED: '1', SST_STAGE: process.env.SST_STAGE ?? 'ci' },
    })
    return r.status === 0 ? undefined : `sst install exited ${r.status ?? r.signal}`
  })
} else {
  console.log('SST platform types present (.sst/platform/config.d.ts)')
}

step('tsc sst.config.ts against SST platform types', () => {
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.sst.json'], { cwd: root, stdio: 'inherit' })
  return r.status === 0 ? undefined : `tsc exited ${r.status ?? r.signal}`
})

step('the same check fails on wrong component arguments', () => {
  const source = readFileSync(join(root, 'sst.config.ts'), 'utf8')
  const broken = source.replace("cpu: '0.5 vCPU'", "cpu: '0.6 vCPU'").replace('url: { cors: false }', 'urls: { cors: false }')
  if (broken === source) return 'the broken copy equals sst.config.ts: update this step'
  const r = typecheckSstConfig(broken)
  if (r.ok) return 'tsc accepted a config with cpu "0.6 vCPU" and an option "urls"'
  const missed = [/0\.6 vCPU/, /'urls' does not exist/].filter((re) => !re.test(r.output))
  return missed.length ? `tsc failed, but did not name ${missed.join(', ')}:\n${r.output}` : undefined
})

console.log(`\ncheck:infra passed in ${((Date.now() - started) / 1000).toFixed(1)} s`)
