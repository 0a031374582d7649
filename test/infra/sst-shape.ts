/**
 * Offline checks of sst.config.ts, without AWS or the SST CLI's Pulumi engine.
 *
 * - `evaluateSstConfig` bundles the config with esbuild behind a `$config = (c) => c` banner, as
 *   SST's CLI does, and runs `app()` and `run()` against recording stand-ins for `sst.*` / `aws.*`.
 * - `checkSstShape` asserts the recorded resources against core's table definition, the repo's
 *   files (Dockerfile, handler exports) and the linking rules. It returns problems, never throws,
 *   so a test can show that a broken config fails for the right reasons.
 * - `typecheckSstConfig` runs tsc over a config against SST's generated platform types.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { createTableInput, tableDefinition } from '../../packages/core/src/store/table.ts'
import { RESOURCE_NAMES } from '../../packages/core/src/runtime-config.ts'
import { LAZY_SDK_PARTS, REQUIRE_BANNER } from '../../scripts/lambda-bundling.ts'

export const ROOT = resolve(import.meta.dirname, '../..')
export const PLATFORM_TYPES = join(ROOT, '.sst/platform/config.d.ts')

export interface Recorded {
  type: string
  name: string
  args: any
  instance: object
}

export interface Evaluation {
  app: (stage: string) => any
  resources: Recorded[]
  outputs: any
}

/** Bundles and runs a config source (repo-root relative imports) with recording stand-ins. */
export async function evaluateSstConfig(source: string, stage = 'prod'): Promise<Evaluation> {
  const out = await build({
    stdin: { contents: source, resolveDir: ROOT, sourcefile: 'sst.config.ts', loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    // What SST's CLI puts in front of the config when it evaluates it.
    banner: { js: 'const $config = (input) => input;' },
    // Provider SDKs are globals in SST (`aws`), never imports; anything else would be a bug here.
    external: ['@pulumi/*', 'sst'],
  })
  const dir = mkdtempSync(join(tmpdir(), 'sst-shape-'))
  const file = join(dir, 'config.mjs')
  writeFileSync(file, out.outputFiles[0].text)

  const resources: Recorded[] = []
  const g = globalThis as any
  const saved = Object.fromEntries(['sst', 'aws', '$app', '$dev', '$interpolate'].map((k) => [k, g[k]]))
  g.$app = { name: 'wa-link-broker', stage }
  g.$dev = false
  g.$interpolate = (parts: TemplateStringsArray, ...values: unknown[]) => parts.reduce((s, p, i) => s + p + (i < values.length ? String(values[i]) : ''), '')
  g.sst = {
    aws: new Proxy({ permission: (p: object) => ({ type: 'aws.permission', ...p }) } as any, {
      get: (target, key: string) => target[key] ?? (target[key] = standIn(`sst.aws.${key}`, resources)),
    }),
    Linkable: standIn('sst.Linkable', resources),
    Secret: standIn('sst.Secret', resources),
  }
  g.aws = deepStandIn('aws', resources)
  try {
    const mod = await import(pathToFileURL(file).href)
    const config = mod.default
    const outputs = await config.run()
    return { app: (s: string) => config.app({ stage: s }), resources, outputs }
  } finally {
    Object.assign(g, saved)
    spawnSync('rm', ['-rf', dir])
  }
}

/** A constructor that records its arguments; its instances answer any property with a token. */
function standIn(type: string, resources: Recorded[]) {
  return class {
    constructor(name: string, args: any = {}) {
      const instance = new Proxy(this, {
        get: (target: any, key) =>
          key in target
            ? target[key]
            : key === 'subscribe'
              ? // Dynamo#subscribe(name, subscriber, args): recorded like a resource of its own.
                (subName: string, subscriber: any, subArgs: any = {}) => {
                  resources.push({ type: `${type}.subscribe`, name: subName, args: { source: instance, subscriber, ...subArgs }, instance: {} })
                  return {}
                }
              : typeof key === 'string'
                ? token(type, name, key)
                : undefined,
      })
      resources.push({ type, name, args, instance })
      return instance
    }
  }
}

function token(type: string, name: string, key: string): any {
  // Outputs are strings here; nested ones (cluster.nodes.cluster.name) stay tokens.
  return new Proxy(new String(`<${type}:${name}.${key}>`), {
    get: (target: any, k) => (k in target ? (typeof target[k] === 'function' ? target[k].bind(target) : target[k]) : typeof k === 'string' ? token(type, name, `${key}.${k}`) : undefined),
  })
}

function deepStandIn(path: string, resources: Recorded[]): any {
  const cache: Record<string, any> = {}
  return new Proxy({}, {
    get: (_t, key: string) => {
      if (cache[key]) return cache[key]
      const p = `${path}.${key}`
      return (cache[key] = /^[A-Z]/.test(key) ? standIn(p, resources) : deepStandIn(p, resources))
    },
  })
}

const fieldType = { S: 'string', N: 'number', B: 'binary' } as const

/** Every problem found; empty means the shape is right. */
export function checkSstShape(ev: Evaluation, source: string): string[] {
  const problems: string[] = []
  const expect = (ok: unknown, message: string) => { if (!ok) problems.push(message) }
  const one = (type: string, name?: string) => {
    const found = ev.resources.filter((r) => r.type === type && (name === undefined || r.name === name))
    expect(found.length === 1, `expected one ${type}${name ? ` "${name}"` : ''}, found ${found.length}`)
    return found[0]
  }

  // SST refuses top-level imports in sst.config.ts.
  const topLevelImports = source.split('\n').filter((l) => /^import\s/.test(l) && !/^import\s+type\s/.test(l))
  expect(topLevelImports.length === 0, `top-level imports are not allowed by SST: ${topLevelImports.join('; ')}`)

  // Stage policy.
  const prod = ev.app('prod')
  const dev = ev.app('dev')
  expect(prod.removal === 'retain' && prod.protect === true, 'prod must be removal "retain" and protect true')
  expect(dev.removal === 'remove' && !dev.protect, 'non-prod stages must be removal "remove" and unprotected')
  expect(prod.home === 'aws', 'home must be aws')

  // Table = core's definition.
  const table = one('sst.aws.Dynamo', RESOURCE_NAMES.table)
  const def = createTableInput('x')
  if (table) {
    const a = table.args
    const wantFields = Object.fromEntries(def.AttributeDefinitions!.map((d) => [d.AttributeName, fieldType[d.AttributeType as 'S']]))
    expect(same(a.fields, wantFields), `table fields ${json(a.fields)} != core ${json(wantFields)}`)
    const key = (s: any[] | undefined, t: string) => s?.find((k) => k.KeyType === t)?.AttributeName
    const wantPrimary = { hashKey: key(def.KeySchema, 'HASH'), rangeKey: key(def.KeySchema, 'RANGE') }
    expect(same(a.primaryIndex, wantPrimary), `table primaryIndex ${json(a.primaryIndex)} != core ${json(wantPrimary)}`)
    const wantGsis = Object.fromEntries(
      (def.GlobalSecondaryIndexes ?? []).map((g) => [g.IndexName, { hashKey: key(g.KeySchema, 'HASH'), rangeKey: key(g.KeySchema, 'RANGE'), projection: sstProjection(g.Projection) }]),
    )
    expect(same(a.globalIndexes ?? {}, wantGsis), `table globalIndexes ${json(a.globalIndexes)} != core ${json(wantGsis)}`)
    expect(a.ttl === tableDefinition.ttlAttribute, `table ttl "${a.ttl}" != core "${tableDefinition.ttlAttribute}"`)
    expect(a.stream === 'new-and-old-images', `table stream must be new-and-old-images, is ${json(a.stream)}`)
  }

  // KMS key with rotation, linked by id/ARN only.
  const kms = one('aws.kms.Key')
  expect(kms?.args.enableKeyRotation === true, 'the KMS key must have enableKeyRotation: true')
  const dataKey = one('sst.Linkable', RESOURCE_NAMES.key)
  if (dataKey) {
    const props = Object.keys(dataKey.args.properties ?? {})
    expect(props.every((p) => ['id', 'arn', 'alias'].includes(p)), `the key link exposes ${props.join(', ')}; only id/arn/alias may be linked`)
    const actions = (dataKey.args.include ?? []).flatMap((i: any) => i.actions ?? [])
    for (const need of ['kms:GenerateDataKey', 'kms:Decrypt']) expect(actions.includes(need), `the key link must grant ${need}`)
  }

  // Worker task.
  const task = one('sst.aws.Task', RESOURCE_NAMES.task)
  if (task) {
    const a = task.args
    const context = resolve(ROOT, a.image?.context ?? '')
    const dockerfile = resolve(context, a.image?.dockerfile ?? 'Dockerfile')
    expect(a.image?.context && existsSync(context) && statSync(context).isDirectory(), `task image context ${json(a.image?.context)} is not a directory`)
    expect(existsSync(dockerfile), `task Dockerfile ${json(a.image?.dockerfile)} does not exist under the context`)
    expect(a.architecture === 'arm64' && a.cpu === '0.5 vCPU' && a.memory === '1 GB', 'task must be arm64, 0.5 vCPU, 1 GB')
    expect(links(a).includes(table?.instance), 'the task must link the table')
    expect(links(a).includes(dataKey?.instance), 'the task must link the KMS key')
    expect(typeof a.dev?.command === 'string' && /packages\/worker\/src\/main\.ts/.test(a.dev.command), 'task dev.command must run packages/worker/src/main.ts')
    expect(existsSync(join(ROOT, 'packages/worker/src/main.ts')), 'packages/worker/src/main.ts is missing')
    expect(a.cluster === one('sst.aws.Cluster')?.instance, 'the task must run on the Cluster')
    problems.push(...plaintextSecrets('task', a.environment))
  }
  const cluster = one('sst.aws.Cluster')
  expect(cluster && cluster.args.vpc === one('sst.aws.Vpc')?.instance, 'the cluster must use the Vpc')

  // API function.
  const api = ev.resources.find((r) => r.type === 'sst.aws.Function')
  expect(api, 'no sst.aws.Function')
  if (api) {
    const a = api.args
    expect(a.runtime === 'nodejs22.x', `function runtime must be nodejs22.x, is ${json(a.runtime)}`)
    expect(a.url === true, 'function must have url: true')
    problems.push(...checkHandler('function', a.handler, 'packages/functions/src/lambda.ts'))
    for (const [what, r] of [['table', table], ['task', task], ['key', dataKey]] as const) {
      expect(r && links(a).includes(r.instance), `the function must link the ${what}`)
    }
    problems.push(...checkNodejs('function', a.nodejs))
    problems.push(...plaintextSecrets('function', a.environment))
  }

  // Schedules: the sweeper, and the webhook retries.
  const crons = ev.resources.filter((r) => r.type === 'sst.aws.CronV2' || r.type === 'sst.aws.Cron')
  expect(crons.length === 2, `expected two crons (Sweeper, WebhookRetry), found ${crons.length}`)
  for (const [name, file, needs] of [['Sweeper', 'sweeper.ts', [table]], ['WebhookRetry', 'webhook-retry.ts', [table, dataKey]]] as const) {
    const cron = crons.find((c) => c.name === name)
    expect(cron, `no cron "${name}"`)
    if (!cron) continue
    const fn = cron.args.function ?? cron.args.job
    const handler = typeof fn === 'string' ? fn : fn?.handler
    expect(cron.args.schedule === 'rate(1 minute)', `cron ${name} schedule must be rate(1 minute), is ${json(cron.args.schedule)}`)
    problems.push(...checkHandler(`cron ${name}`, handler, `packages/functions/src/${file}`))
    if (typeof fn === 'object') {
      for (const r of needs) expect(r && links(fn).includes(r.instance), `cron ${name} must link the ${r === table ? 'table' : 'key'}`)
      problems.push(...checkNodejs(`cron ${name}`, fn.nodejs))
    }
  }

  // The table's stream subscriber: webhook events from every writer's changes.
  const subscribers = ev.resources.filter((r) => r.type === 'sst.aws.Dynamo.subscribe')
  expect(subscribers.length === 1, `expected one stream subscriber, found ${subscribers.length}`)
  const sub = subscribers[0]
  if (sub) {
    expect(sub.args.source === table?.instance, 'the stream subscriber must subscribe to the table')
    const fn = sub.args.subscriber
    problems.push(...checkHandler('stream subscriber', typeof fn === 'string' ? fn : fn?.handler, 'packages/functions/src/webhook-stream.ts'))
    if (typeof fn === 'object') {
      for (const r of [table, dataKey]) expect(r && links(fn).includes(r.instance), `the stream subscriber must link the ${r === table ? 'table' : 'key'}`)
      problems.push(...checkNodejs('stream subscriber', fn.nodejs))
      problems.push(...plaintextSecrets('stream subscriber', fn.environment))
    }
    // Without its filter for link items, no event would ever be made (no filters at all lets everything through).
    const filters: any[] = sub.args.filters ?? []
    expect(filters.length === 0 || filters.some((f) => same(f?.dynamodb?.Keys?.sk, { S: ['LINK'] })), 'the stream subscriber filters must let link items (sk LINK) through')
  }
  return problems
}

/** sst.aws.Dynamo's spelling of a GSI projection: "all", "keys-only" or the included attributes. */
const sstProjection = (p: { ProjectionType?: string; NonKeyAttributes?: string[] } | undefined) =>
  p?.ProjectionType === 'KEYS_ONLY' ? 'keys-only' : p?.ProjectionType === 'INCLUDE' ? p.NonKeyAttributes : 'all'

const links = (args: any): unknown[] => args?.link ?? []
const json = (v: unknown) => JSON.stringify(v)
function same(a: unknown, b: unknown): boolean {
  const norm = (v: any): any =>
    Array.isArray(v) ? v.map(norm) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).filter((k) => v[k] !== undefined).sort().map((k) => [k, norm(v[k])])) : v
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b))
}

/** `path/file.export`: the file exists (as .ts) and exports that name. */
export function checkHandler(what: string, handler: unknown, expectedFile?: string): string[] {
  if (typeof handler !== 'string' || !handler.includes('.')) return [`${what} handler ${json(handler)} is not "<file>.<export>"`]
  const dot = handler.lastIndexOf('.')
  const base = handler.slice(0, dot)
  const name = handler.slice(dot + 1)
  const file = ['.ts', '.mts', '.js', '.mjs'].map((e) => join(ROOT, base + e)).find((f) => existsSync(f))
  if (!file) return [`${what} handler file ${base}.ts does not exist`]
  const problems: string[] = []
  if (expectedFile && resolve(file) !== join(ROOT, expectedFile)) problems.push(`${what} handler should be in ${expectedFile}, is ${file}`)
  const exports = exportsOf(file)
  if (!exports.includes(name)) problems.push(`${what} handler file ${base}.ts does not export "${name}" (exports: ${exports.join(', ') || 'none'})`)
  return problems
}

function exportsOf(file: string): string[] {
  // esbuild's metafile lists an entry point's exports; no bundling needed.
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { build } from 'esbuild'
    const r = await build({ entryPoints: [${json(file)}], bundle: false, write: false, metafile: true, format: 'esm', outdir: 'o', logLevel: 'silent' })
    process.stdout.write(JSON.stringify(Object.values(r.metafile.outputs)[0].exports))
  `], { cwd: ROOT, encoding: 'utf8' })
  if (r.status !== 0) return []
  return JSON.parse(r.stdout) as string[]
}

function checkNodejs(what: string, nodejs: any): string[] {
  const problems: string[] = []
  if (nodejs?.format !== 'esm') problems.push(`${what} must bundle as esm`)
  if (nodejs?.banner !== REQUIRE_BANNER) problems.push(`${what} nodejs.banner must be the createRequire shim of scripts/build.ts`)
  if (!same([...(nodejs?.esbuild?.external ?? [])].sort(), [...LAZY_SDK_PARTS].sort())) problems.push(`${what} esbuild externals differ from scripts/build.ts LAZY_SDK_PARTS`)
  return problems
}

/** Linked values and environment reach ECS task definitions in plaintext: names/ids/ARNs only. */
function plaintextSecrets(what: string, environment: Record<string, unknown> | undefined): string[] {
  return Object.keys(environment ?? {})
    .filter((k) => /SECRET|PASSWORD|TOKEN|PRIVATE|API_KEY|MASTER_KEY|DATA_KEY$/i.test(k))
    .map((k) => `${what} environment must not carry secret material (${k}); use KMS/SSM`)
}

/** tsc over a config source against .sst/platform types; returns tsc's output, '' when clean. */
export function typecheckSstConfig(source: string): { ok: boolean; output: string } {
  const dir = join(ROOT, '.sst', 'check', `c${process.pid}-${Date.now()}`)
  mkdirSync(dir, { recursive: true })
  const rewritten = source
    .replace('./.sst/platform/config.d.ts', '../../platform/config.d.ts')
    .replaceAll("'./packages/", "'../../../packages/")
    .replaceAll("'./scripts/", "'../../../scripts/")
  writeFileSync(join(dir, 'sst.config.ts'), rewritten)
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../../tsconfig.sst.json', files: ['sst.config.ts'] }))
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' })
  spawnSync('rm', ['-rf', dir])
  return { ok: r.status === 0, output: (r.stdout + r.stderr).trim() }
}

export const readConfigSource = () => readFileSync(join(ROOT, 'sst.config.ts'), 'utf8')
