/**
 * Offline checks of sst.config.ts, without AWS or the SST CLI's Pulumi engine.
 *
 * - `evaluateSstConfig` bundles the config with esbuild behind a `$config = (c) => c` banner, as
 *   SST's CLI does, and runs `app()` and `run()` against recording stand-ins for `sst.*` / `aws.*`.
 * - `checkSstShape` asserts the recorded resources against core's table definition, the repo's
 *   files (Dockerfile, handler exports) and the linking rules. It returns problems, never throws,
 *   so a test can show that a broken config fails for the right reasons.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { createTableInput, tableDefinition } from '../../packages/core/src/store/table.ts'
import { RESOURCE_NAMES } from '../../packages/core/src/runtime-config.ts'
import { ECS_STARTED_BY } from '../../packages/core/src/launchers/ecs-names.ts'
import { LAMBDA_ENTRIES } from '../../scripts/build.ts'
import { LAMBDA_BUILD_ARGS, LAMBDA_HANDLER, LAMBDA_OUT_DIR } from '../../scripts/lambda-bundling.ts'

export const ROOT = resolve(import.meta.dirname, '../..')

export interface Recorded {
  type: string
  name: string
  args: any
  instance: object
}

/** A process the config ran (through node:child_process), and how many resources existed then. */
export interface RecordedCommand {
  file: string
  args: string[]
  options: any
  resourcesBefore: number
}

export interface Evaluation {
  stage: string
  /** The deploy-time environment the config saw (only what the caller set). */
  env: Record<string, string | undefined>
  app: (stage: string) => any
  resources: Recorded[]
  commands: RecordedCommand[]
  outputs: any
}

/** Bundles and runs a config source (repo-root relative imports) with recording stand-ins. */
export async function evaluateSstConfig(source: string, stage = 'prod', env: Record<string, string | undefined> = {}): Promise<Evaluation> {
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
    // The config runs the Lambda build; here that call is recorded, not run (check:infra builds and
    // invokes the same bundles in lambda-bundle.test.ts).
    plugins: [{
      name: 'record-child-process',
      setup(b) {
        b.onResolve({ filter: /^(node:)?child_process$/ }, () => ({ path: 'child_process', namespace: 'recorded' }))
        b.onLoad({ filter: /.*/, namespace: 'recorded' }, () => ({
          contents: 'export const execFileSync = (file, args, options) => globalThis.__sstShapeExec(file, args, options)',
          loader: 'js',
        }))
      },
    }],
  })
  const dir = mkdtempSync(join(tmpdir(), 'sst-shape-'))
  const file = join(dir, 'config.mjs')
  writeFileSync(file, out.outputFiles[0].text)

  const resources: Recorded[] = []
  const commands: RecordedCommand[] = []
  const g = globalThis as any
  const saved = Object.fromEntries(['sst', 'aws', '$app', '$dev', '$cli', '$interpolate', '$jsonStringify', '$output', '__sstShapeExec'].map((k) => [k, g[k]]))
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v
  // Pulumi's output(): here values are plain, so apply() is a call.
  g.$output = (value: unknown) => ({ apply: (fn: (v: unknown) => unknown) => fn(value) })
  g.$app = { name: 'wa-link-broker', stage }
  g.$dev = false
  g.$cli = { command: 'deploy', paths: { root: ROOT, home: tmpdir(), work: join(ROOT, '.sst'), platform: join(ROOT, '.sst/platform') } }
  g.$jsonStringify = (value: unknown) => JSON.stringify(value, (_k, v) => (v instanceof String ? String(v) : v))
  g.__sstShapeExec = (file: string, args: string[], options: unknown) => {
    commands.push({ file, args, options, resourcesBefore: resources.length })
    return Buffer.alloc(0)
  }
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
    return { stage, env, app: (s: string) => config.app({ stage: s }), resources, commands, outputs }
  } finally {
    Object.assign(g, saved)
    for (const [k, v] of Object.entries(savedEnv)) if (v === undefined) delete process.env[k]; else process.env[k] = v
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
  // Outputs are strings here; nested ones (cluster.nodes.cluster.name) stay tokens, and
  // `output.apply(fn)` is `fn(value)`, as Pulumi resolves it.
  // An ECS cluster's ARN reads like one, so code that derives task ARNs from it can be checked.
  // A task definition's containers read like the JSON Pulumi gives, so code that picks the image can be checked.
  const value =
    type === 'sst.aws.Cluster' && key === 'nodes.cluster.arn'
      ? `arn:aws:ecs:us-east-1:111122223333:cluster/${name}`
      : key === 'nodes.taskDefinition.containerDefinitions'
        ? JSON.stringify([{ name, image: `<${type}:${name}.image>` }])
        : `<${type}:${name}.${key}>`
  return new Proxy(new String(value), {
    get: (target: any, k) =>
      k === 'apply'
        ? (fn: (v: string) => unknown) => fn(String(target))
        : k in target
          ? typeof target[k] === 'function' ? target[k].bind(target) : target[k]
          : typeof k === 'string' ? token(type, name, `${key}.${k}`) : undefined,
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
  const table = one('sst.aws.Dynamo', 'LinkTable')
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
  }
  const tableLink = one('sst.Linkable', RESOURCE_NAMES.table)
  if (tableLink && table) {
    const props = tableLink.args.properties ?? {}
    expect(Object.keys(props).join() === 'name' && str(props.name) === str((table.instance as any).name), 'the table link must expose the table name only')
  }
  const launch = one('sst.Linkable', RESOURCE_NAMES.task)

  // Links carry names only: grants are written out per role (iamStatements), never pulled in by a link.
  for (const l of ev.resources.filter((r) => r.type === 'sst.Linkable')) expect(!l.args.include?.length, `link ${l.name} must not include grants (${json(l.args.include?.map((i: any) => i.actions))})`)
  const granting = ev.resources.filter((r) => ['sst.aws.Dynamo', 'sst.aws.Task', 'sst.aws.Service', 'sst.aws.Bucket', 'sst.aws.Queue'].includes(r.type)).map((r) => r.instance)
  for (const f of [...lambdaFunctions(ev), ...ev.resources.filter((r) => r.type === 'sst.aws.Task' || r.type === 'sst.aws.Service').map((r) => ({ what: `${r.type} ${r.name}`, args: r.args }))]) {
    for (const l of links(f.args)) expect(!granting.includes(l as object), `${f.what} links a component whose link grants broad permissions; link its sst.Linkable instead`)
  }

  // Worker task.
  const task = one('sst.aws.Task', 'Worker')
  if (task) {
    const a = task.args
    const context = resolve(ROOT, a.image?.context ?? '')
    const dockerfile = resolve(context, a.image?.dockerfile ?? 'Dockerfile')
    expect(a.image?.context && existsSync(context) && statSync(context).isDirectory(), `task image context ${json(a.image?.context)} is not a directory`)
    expect(existsSync(dockerfile), `task Dockerfile ${json(a.image?.dockerfile)} does not exist under the context`)
    expect(a.architecture === 'arm64' && a.cpu === '0.5 vCPU' && a.memory === '1 GB', 'task must be arm64, 0.5 vCPU, 1 GB')
    expect(links(a).includes(tableLink?.instance), 'the task must link the table')
    expect(links(a).includes(dataKey?.instance), 'the task must link the KMS key')
    expect(a.taskRole !== undefined && str(a.taskRole) === str((one('aws.iam.Role', 'WorkerTaskRole')?.instance as any)?.name), 'the task must run as WorkerTaskRole (SST’s own task role adds ssmmessages:*)')
    expect(typeof a.dev?.command === 'string' && /packages\/worker\/src\/main\.ts/.test(a.dev.command), 'task dev.command must run packages/worker/src/main.ts')
    expect(existsSync(join(ROOT, 'packages/worker/src/main.ts')), 'packages/worker/src/main.ts is missing')
    expect(a.cluster === one('sst.aws.Cluster')?.instance, 'the task must run on the Cluster')
    problems.push(...plaintextSecrets('task', a.environment))
  }
  const cluster = one('sst.aws.Cluster')
  expect(cluster && cluster.args.vpc === one('sst.aws.Vpc')?.instance, 'the cluster must use the Vpc')

  // Warm hosts: the worker's image and role, WORKER_MODE=host, no load balancer, a stop timeout of 120 s.
  problems.push(...checkWarmHosts(ev, one))

  // Lambda code: built by the config itself, before any function, then deployed as built.
  problems.push(...checkShippedBundles(ev))

  // API function.
  const api = ev.resources.find((r) => r.type === 'sst.aws.Function' && r.name === 'Api')
  expect(api, 'no sst.aws.Function "Api"')
  if (api) {
    const a = api.args
    expect(a.url?.cors === false, 'the function URL must have its own CORS off (url: { cors: false }): the app answers CORS')
    for (const [what, r] of [['table', tableLink], ['task launch', launch], ['key', dataKey]] as const) {
      expect(r && links(a).includes(r.instance), `the function must link the ${what}`)
    }
    problems.push(...plaintextSecrets('function', a.environment))
  }

  // A stopped worker task reaches the TaskStopped function through an EventBridge rule on this cluster.
  problems.push(...checkTaskStoppedRule(ev, one))

  // Schedules: the sweeper, and the webhook retries.
  const crons = ev.resources.filter((r) => r.type === 'sst.aws.CronV2' || r.type === 'sst.aws.Cron')
  expect(crons.length === 2, `expected two crons (Sweeper, WebhookRetry), found ${crons.length}`)
  for (const [name, bundle, needs] of [['Sweeper', 'sweeper', [tableLink, launch]], ['WebhookRetry', 'webhookRetry', [tableLink, dataKey]]] as const) {
    const cron = crons.find((c) => c.name === name)
    expect(cron, `no cron "${name}"`)
    if (!cron) continue
    const fn = cron.args.function ?? cron.args.job
    expect(cron.args.schedule === 'rate(1 minute)', `cron ${name} schedule must be rate(1 minute), is ${json(cron.args.schedule)}`)
    expect(typeof fn === 'object' && fn.bundle === shippedDir(bundle), `the cron ${name} must run the ${bundle} bundle ${shippedDir(bundle)}`)
    if (typeof fn === 'object') expect(needs.every((r) => r && links(fn).includes(r.instance)), `cron ${name} must link ${needs.map((r) => r?.name).join(' and ')}`)
  }

  // The table's stream subscriber: webhook events from every writer's changes.
  const subscribers = ev.resources.filter((r) => r.type === 'sst.aws.Dynamo.subscribe')
  expect(subscribers.length === 1, `expected one stream subscriber, found ${subscribers.length}`)
  const sub = subscribers[0]
  if (sub) {
    expect(sub.args.source === table?.instance, 'the stream subscriber must subscribe to the table')
    const fn = sub.args.subscriber
    expect(typeof fn === 'object' && fn.bundle === shippedDir('webhookStream'), `the stream subscriber must run the webhookStream bundle ${shippedDir('webhookStream')}`)
    if (typeof fn === 'object') {
      // It records events and hands the deliveries off: the table, never the key (no signing secrets).
      expect(same(links(fn), [tableLink?.instance]), 'the stream subscriber must link the table only (it signs nothing)')
      problems.push(...plaintextSecrets('stream subscriber', fn.environment))
    }
    // Without the filter for link items no event would ever be made (no filters at all lets everything through).
    const filters: any[] = sub.args.filters ?? []
    expect(filters.length === 0 || filters.some((f) => same(f?.dynamodb?.Keys?.sk, { S: ['LINK'] })), 'the stream subscriber filters must let link items (sk LINK) through')
  }
  problems.push(...checkWebhookDeliver(ev, one, sub, [tableLink, dataKey]))
  return problems
}

/**
 * The delivery function the stream subscriber hands links to: the webhookDeliver bundle, linking the
 * table and the key (it signs); the subscriber is told its ARN (WEBHOOK_DELIVER_FUNCTION); Lambda's
 * own async retries are off or at most one (the retry Cron is the retry path).
 */
function checkWebhookDeliver(ev: Evaluation, one: (type: string, name?: string) => Recorded | undefined, sub: Recorded | undefined, needs: (Recorded | undefined)[]): string[] {
  const problems: string[] = []
  const expect = (ok: unknown, message: string) => { if (!ok) problems.push(message) }
  const fn = one('sst.aws.Function', 'WebhookDeliver')
  if (!fn) return problems
  const arn = str((fn.instance as any).arn)
  expect(fn.args.bundle === shippedDir('webhookDeliver'), `the function WebhookDeliver must run the webhookDeliver bundle ${shippedDir('webhookDeliver')}`)
  expect(needs.every((r) => r && links(fn.args).includes(r.instance)), 'the function WebhookDeliver must link the table and the key')
  problems.push(...plaintextSecrets('function WebhookDeliver', fn.args.environment))
  const told = str(sub?.args.subscriber?.environment?.WEBHOOK_DELIVER_FUNCTION)
  expect(told === arn, `the stream subscriber must be told WebhookDeliver's ARN (WEBHOOK_DELIVER_FUNCTION), is told ${json(told)}`)
  const configs = ev.resources.filter((r) => r.type === 'aws.lambda.FunctionEventInvokeConfig' && str(r.args.functionName) === str((fn.instance as any).name))
  expect(
    configs.length === 1 && typeof configs[0].args.maximumRetryAttempts === 'number' && configs[0].args.maximumRetryAttempts <= 1,
    'WebhookDeliver needs one FunctionEventInvokeConfig with maximumRetryAttempts 0 or 1 (the retry Cron retries; Lambda would retry twice by default)',
  )
  return problems
}

const shippedDir = (name: string) => join(ROOT, LAMBDA_OUT_DIR, name)

/** How many warm hosts a stage runs: prod 1, others 0, WARM_WORKERS when set at deploy time. */
export const expectedWarmWorkers = (stage: string, env: string | undefined) => Number(env ?? (stage === 'prod' ? 1 : 0))
/** The functions that dispatch links or logouts to workers, and so must know how. */
export const DISPATCHERS = ['function Api', 'cron Sweeper', 'function TaskStopped']

function checkWarmHosts(ev: Evaluation, one: (type: string, name?: string) => Recorded | undefined): string[] {
  const problems: string[] = []
  const expect = (ok: unknown, message: string) => { if (!ok) problems.push(message) }
  const hosts = one('sst.aws.Service', 'WorkerHosts')
  const task = ev.resources.find((r) => r.type === 'sst.aws.Task' && r.name === 'Worker')
  const role = ev.resources.find((r) => r.type === 'aws.iam.Role' && r.name === 'WorkerTaskRole')
  if (!hosts || !task) return problems
  const a = hosts.args
  expect(a.cluster === task.args.cluster, 'warm hosts must run on the worker cluster')
  expect(str(a.image) === `<sst.aws.Task:Worker.image>`, `warm hosts must run the worker task's image (by digest), run ${json(str(a.image))}`)
  expect(str(a.taskRole) === str((role?.instance as any)?.name), 'warm hosts must run as WorkerTaskRole')
  expect(a.architecture === task.args.architecture && a.cpu === task.args.cpu && a.memory === task.args.memory, 'warm hosts must have the worker task’s size (an overflow host is RunTask of that task)')
  expect(same(links(a), links(task.args)), 'warm hosts must link what the worker task links')
  expect(a.environment?.WORKER_MODE === 'host', 'warm hosts must set WORKER_MODE=host')
  expect(a.loadBalancer === undefined && a.public === undefined, 'warm hosts take no inbound traffic (no load balancer)')
  const n = expectedWarmWorkers(ev.stage, ev.env.WARM_WORKERS)
  expect(a.scaling?.min === n && a.scaling?.max === n, `warm hosts must be exactly ${n} for this stage, are ${json(a.scaling)}`)
  const dispatch = { WARM_WORKERS: String(n), OVERFLOW_HOSTS: ev.env.OVERFLOW_HOSTS ?? '0' }
  for (const f of lambdaFunctions(ev).filter((f) => DISPATCHERS.includes(f.what))) {
    const told = { WARM_WORKERS: f.args.environment?.WARM_WORKERS, OVERFLOW_HOSTS: f.args.environment?.OVERFLOW_HOSTS }
    expect(same(told, dispatch), `${f.what} must be told ${json(dispatch)} (how links reach workers), is told ${json(told)}`)
  }
  const transformed: any = { containerDefinitions: JSON.stringify([{ name: 'WorkerHosts', image: 'x' }]) }
  const g = globalThis as any
  const saved = g.$output
  g.$output = (value: unknown) => ({ apply: (fn: (v: unknown) => unknown) => fn(value) })
  try { a.transform?.taskDefinition?.(transformed) } catch (e) { problems.push(`warm hosts' task definition transform throws: ${(e as Error).message}`) } finally { g.$output = saved }
  const containers = (() => { try { return JSON.parse(String(transformed.containerDefinitions)) } catch { return [] } })()
  expect(containers.length === 1 && containers.every((c: any) => c.stopTimeout === 120), 'warm hosts’ containers must have stopTimeout 120 (s)')
  problems.push(...plaintextSecrets('warm hosts', a.environment))
  return problems
}

/** An IAM statement, normalised: effect, sorted actions, resources and conditions as plain strings. */
export interface IamStatement { Effect: string; Action: string[]; Resource: string[]; Condition?: Record<string, Record<string, string[]>> }

const normStatement = (st: any): IamStatement => {
  const list = (v: unknown) => (Array.isArray(v) ? v : [v]).map((x) => String(x))
  const out: IamStatement = { Effect: st.Effect ?? 'Allow', Action: list(st.Action).sort(), Resource: list(st.Resource) }
  if (st.Condition) out.Condition = Object.fromEntries(Object.entries(st.Condition).map(([t, kv]: [string, any]) => [t, Object.fromEntries(Object.entries(kv).map(([k, v]) => [k, list(v)]))]))
  return out
}

/** SST's `permissions` format ({ actions, resources, conditions }) as IAM statements. */
const fromSstPermissions = (perms: any[] = []): IamStatement[] =>
  perms.map((p) =>
    normStatement({
      Effect: p.effect === 'deny' ? 'Deny' : 'Allow',
      Action: p.actions,
      Resource: p.resources,
      ...(p.conditions?.length
        ? { Condition: p.conditions.reduce((c: any, k: any) => ({ ...c, [k.test]: { ...c[k.test], [k.variable]: k.values } }), {}) }
        : {}),
    }),
  )

/**
 * Every IAM statement each piece of code runs with, beyond what AWS's own service roles need (the
 * Lambda basic-execution and ECS task-execution managed policies): the worker's task role policy,
 * and each function's `permissions` (links add none; checked above).
 */
export function iamStatements(ev: Evaluation): Record<string, IamStatement[]> {
  const out: Record<string, IamStatement[]> = {}
  for (const r of ev.resources.filter((x) => x.type === 'aws.iam.Role')) {
    out[`role ${r.name}`] = (r.args.inlinePolicies ?? []).flatMap((p: any) => JSON.parse(String(p.policy)).Statement.map(normStatement))
  }
  for (const f of lambdaFunctions(ev)) out[f.what] = fromSstPermissions(f.args.permissions)
  return out
}
const str = (v: unknown) => (v === undefined || v === null ? v : String(v))

function checkTaskStoppedRule(ev: Evaluation, one: (type: string, name?: string) => Recorded | undefined): string[] {
  const problems: string[] = []
  const expect = (ok: unknown, message: string) => { if (!ok) problems.push(message) }
  const rule = one('aws.cloudwatch.EventRule', 'WorkerTaskStopped')
  const fn = one('sst.aws.Function', 'TaskStopped')
  const cluster = ev.resources.find((r) => r.type === 'sst.aws.Cluster')
  if (!rule || !fn || !cluster) return problems
  const want = {
    source: ['aws.ecs'],
    'detail-type': ['ECS Task State Change'],
    detail: {
      clusterArn: [str((cluster.instance as any).nodes.cluster.arn)],
      lastStatus: ['STOPPED'],
      startedBy: [ECS_STARTED_BY, { prefix: 'ecs-svc/' }],
    },
  }
  let pattern: unknown
  try { pattern = JSON.parse(String(rule.args.eventPattern)) } catch { pattern = rule.args.eventPattern }
  expect(same(pattern, want), `the task-stopped rule must match ${json(want)}, matches ${json(pattern)}`)
  const targets = ev.resources.filter((r) => r.type === 'aws.cloudwatch.EventTarget' && str(r.args.rule) === str((rule.instance as any).name))
  expect(targets.length === 1 && str(targets[0].args.arn) === str((fn.instance as any).arn), 'the task-stopped rule must target the TaskStopped function (one target)')
  const invoke = ev.resources.filter((r) => r.type === 'aws.lambda.Permission' && str(r.args.function) === str((fn.instance as any).name))
  expect(
    invoke.length === 1 && invoke[0].args.action === 'lambda:InvokeFunction' && invoke[0].args.principal === 'events.amazonaws.com' && str(invoke[0].args.sourceArn) === str((rule.instance as any).arn),
    'EventBridge must be allowed to invoke TaskStopped from that rule only (lambda.Permission with sourceArn = the rule)',
  )
  return problems
}

/** Every Lambda function the config declares, with a name for messages. */
function lambdaFunctions(ev: Evaluation): { what: string; index: number; args: any }[] {
  return ev.resources.flatMap((r, index) => {
    if (r.type === 'sst.aws.Function') return [{ what: `function ${r.name}`, index, args: r.args }]
    if (r.type === 'sst.aws.Dynamo.subscribe') {
      const fn = r.args.subscriber
      return [{ what: `subscriber ${r.name}`, index, args: typeof fn === 'string' ? { handler: fn } : fn }]
    }
    const fn = r.type === 'sst.aws.CronV2' || r.type === 'sst.aws.Cron' ? (r.args.function ?? r.args.job) : undefined
    return fn ? [{ what: `cron ${r.name}`, index, args: typeof fn === 'string' ? { handler: fn } : fn }] : []
  })
}

/** Each Lambda function (by what it is, e.g. "function Api") → the bundle directory it deploys. */
export function deployedBundles(ev: Evaluation): Record<string, string> {
  return Object.fromEntries(lambdaFunctions(ev).map((f) => [f.what, f.args.bundle]))
}

/** The Lambda build the config runs: the Node evaluating it, with LAMBDA_BUILD_ARGS. */
export const isLambdaBuild = (c: RecordedCommand) => c.file === process.execPath && same(c.args, LAMBDA_BUILD_ARGS)

/**
 * What ships is what is tested: the config runs the Lambda build (LAMBDA_BUILD_ARGS) once, before
 * any function exists, and nothing else; every function deploys one LAMBDA_ENTRIES bundle directory
 * as it is (`bundle` + the bundle's own handler), on nodejs22.x arm64; every entry is deployed
 * exactly once.
 */
function checkShippedBundles(ev: Evaluation): string[] {
  const problems: string[] = []
  const builds = ev.commands.filter(isLambdaBuild)
  const fns = lambdaFunctions(ev)
  for (const c of ev.commands.filter((c) => !isLambdaBuild(c))) problems.push(`the config runs \`${[c.file, ...c.args].join(' ')}\`: only the Lambda build (node ${LAMBDA_BUILD_ARGS.join(' ')}) may run`)
  if (builds.length !== 1) problems.push(`the config must run the Lambda build (node ${LAMBDA_BUILD_ARGS.join(' ')}) exactly once, ran it ${builds.length} times`)
  else {
    if (resolve(builds[0].options?.cwd ?? '') !== ROOT) problems.push(`the Lambda build must run in the repo root, ran in ${json(builds[0].options?.cwd)}`)
    const first = Math.min(...fns.map((f) => f.index))
    if (builds[0].resourcesBefore > first) problems.push('the Lambda build must run before the first function is declared')
  }
  const deployed = new Map<string, string[]>()
  for (const f of fns) {
    const a = f.args
    const name = Object.keys(LAMBDA_ENTRIES).find((n) => a.bundle === shippedDir(n))
    if (!name) {
      problems.push(`${f.what} must deploy a prebuilt bundle (bundle: ${LAMBDA_OUT_DIR}/<one of ${Object.keys(LAMBDA_ENTRIES).join(', ')}>), has bundle ${json(a.bundle)}`)
      continue
    }
    deployed.set(name, [...(deployed.get(name) ?? []), f.what])
    if (a.handler !== LAMBDA_HANDLER) problems.push(`${f.what} handler must be "${LAMBDA_HANDLER}" (the bundle's own file), is ${json(a.handler)}`)
    if (a.nodejs !== undefined) problems.push(`${f.what} sets nodejs options, which a prebuilt bundle ignores`)
    if (a.runtime !== 'nodejs22.x' || a.architecture !== 'arm64') problems.push(`${f.what} must run nodejs22.x on arm64`)
    problems.push(...checkHandler(f.what, `${(LAMBDA_ENTRIES as Record<string, string>)[name].replace(/\.ts$/, '')}.${LAMBDA_HANDLER.split('.')[1]}`))
  }
  for (const name of Object.keys(LAMBDA_ENTRIES)) {
    const by = deployed.get(name) ?? []
    if (by.length !== 1) problems.push(`the ${name} bundle must be deployed by exactly one function, is by ${by.length ? by.join(', ') : 'none'}`)
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

/** Linked values and environment reach ECS task definitions in plaintext: names/ids/ARNs only. */
function plaintextSecrets(what: string, environment: Record<string, unknown> | undefined): string[] {
  return Object.keys(environment ?? {})
    .filter((k) => /SECRET|PASSWORD|TOKEN|PRIVATE|API_KEY|MASTER_KEY|DATA_KEY$/i.test(k))
    .map((k) => `${what} environment must not carry secret material (${k}); use KMS/SSM`)
}

export const readConfigSource = () => readFileSync(join(ROOT, 'sst.config.ts'), 'utf8')
