/**
 * npm run check:infra — the offline infrastructure checks (.ci/run calls this).
 *
 * 1. SST's platform types: `sst install` (offline; ~30 s, ~320 MB under .sst/, git-ignored) only
 *    when .sst/platform/config.d.ts is missing.
 * 2. tsc over sst.config.ts against those types (tsconfig.sst.json, skipLibCheck).
 * 3. vitest over test/infra: the config's shape and IAM with recording stand-ins (and broken
 *    variants that must fail), the Dockerfile lint and the image's runtime packages, runtime config,
 *    and the shipped Lambda bundles (npm run build's output, packaged as SST packages it) invoked
 *    with the events AWS sends.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(fileURLToPath(import.meta.url), '../..')
const started = Date.now()
const bin = (name: string) => join(root, 'node_modules/.bin', name)

function step(title: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const t = Date.now()
  console.log(`\n▶ ${title}`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } })
  if (r.status !== 0) {
    console.error(`✗ ${title} failed (exit ${r.status ?? r.signal})`)
    process.exit(1)
  }
  console.log(`✓ ${title} (${((Date.now() - t) / 1000).toFixed(1)} s)`)
}

if (!existsSync(join(root, '.sst/platform/config.d.ts'))) {
  step('sst install (platform types, offline)', bin('sst'), ['install'], {
    SST_SKIP_DEPENDENCY_CHECK: '1',
    SST_NO_BUN: '1',
    SST_TELEMETRY_DISABLED: '1',
    SST_STAGE: process.env.SST_STAGE ?? 'ci',
  })
} else {
  console.log('SST platform types present (.sst/platform/config.d.ts)')
}

step('tsc sst.config.ts against SST platform types', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.sst.json'])
step('infra tests (shape, IAM, broken variants, Dockerfile, runtime config, shipped bundles)', bin('vitest'), ['run', 'test/infra'], {
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
})
console.log(`\ncheck:infra passed in ${((Date.now() - started) / 1000).toFixed(1)} s`)
