import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildLambda, buildWorker, LAMBDA_ENTRIES, type BuiltBundle } from '../../scripts/build.ts'
import { awsCallsOf, bundledCommands, bundledSources, type AwsCalls } from './aws-calls.ts'
import { deployedBundles, evaluateSstConfig, iamStatements, readConfigSource, type Evaluation } from './sst-shape.ts'

/**
 * Each role is granted exactly the AWS calls its shipped code can make: the calls are read from the
 * bundle each role runs (aws-calls.ts: the code reachable from its entry point), the grants from
 * sst.config.ts as evaluated. A grant nothing calls fails, and so does a call without its grant.
 */
const WORKER_ROLE = 'role WorkerTaskRole'
let ev: Evaluation
/** Role (as iamStatements names it) → the calls of the code it runs. */
const calls: Record<string, AwsCalls> = {}
const bundled: Record<string, Set<string>> = {}

beforeAll(async () => {
  ev = await evaluateSstConfig(readConfigSource())
  const out = mkdtempSync(join(tmpdir(), 'iam-'))
  const lambdas = Object.fromEntries((await buildLambda({ outDir: join(out, 'lambda') })).map((b) => [b.name, b]))
  const analyse = (role: string, entry: string, bundle: BuiltBundle, handlers?: string[]) => {
    calls[role] = awsCallsOf(entry, bundledSources(bundle.metafile), { explain: true, handlers })
    bundled[role] = bundledCommands(bundle.metafile)
  }
  // Each function runs the bundle its `bundle` directory names.
  for (const [role, dir] of Object.entries(deployedBundles(ev))) {
    const name = basename(dir) as keyof typeof LAMBDA_ENTRIES
    analyse(role, LAMBDA_ENTRIES[name], lambdas[name])
  }
  // The worker task and the warm hosts run the image's bundle (dockerfile.test.ts: dist/worker/main.mjs) as WorkerTaskRole.
  analyse(WORKER_ROLE, 'packages/worker/src/main.ts', await buildWorker({ outDir: join(out, 'worker') }), [])
}, 240_000)

const granted = (role: string) => [...new Set(iamStatements(ev)[role].flatMap((st) => st.Action))].sort()

describe('IAM: each role is granted exactly the calls its shipped code can make', () => {
  it('every role that runs code is analysed', () => {
    expect(Object.keys(calls).sort()).toEqual(Object.keys(iamStatements(ev)).sort())
  })

  it.each(['role WorkerTaskRole', 'function Api', 'cron Sweeper', 'function TaskStopped', 'subscriber WebhookStream', 'function WebhookDeliver', 'cron WebhookRetry'])('%s', (role) => {
    const needed = Object.keys(calls[role].actions)
    const missing = needed.filter((a) => !granted(role).includes(a)).map((a) => `${a}, called at ${calls[role].actions[a].join('; ')}`)
    const unused = granted(role).filter((a) => !needed.includes(a))
    expect({ missing, unused }, `${role}: grant what is missing, remove what no code of it calls`).toEqual({ missing: [], unused: [] })
    // Only calls that ship: each command found is in the bundle.
    expect(calls[role].commands.filter((c) => !bundled[role].has(c))).toEqual([])
  })

  it('the stream subscriber only records and hands off: item writes and the delivery function’s Invoke, no reads of secrets, no KMS', () => {
    expect(Object.keys(calls['subscriber WebhookStream'].actions)).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'lambda:InvokeFunction'])
    expect(calls['subscriber WebhookStream'].actions['lambda:InvokeFunction'][0]).toMatch(/handoff\.ts:\d+ in createDeliveryHandoff .* ← top level \(packages\/functions\/src\/webhook-stream\.ts/)
    // The delivery function signs (the tenants' secrets) and never invokes anything.
    expect(Object.keys(calls['function WebhookDeliver'].actions)).toContain('kms:Decrypt')
    expect(Object.keys(calls['function WebhookDeliver'].actions)).not.toContain('lambda:InvokeFunction')
  })

  it('the worker cannot check conditions in transactions, scan, or reach anything but its table and key', () => {
    expect(granted(WORKER_ROLE)).toEqual([
      'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem',
      'kms:Decrypt', 'kms:GenerateDataKey',
    ])
  })
})
