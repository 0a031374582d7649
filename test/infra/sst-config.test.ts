import { describe, expect, it } from 'vitest'
import { checkSstShape, evaluateSstConfig, iamStatements, readConfigSource } from './sst-shape.ts'

const source = readConfigSource()

/** Applies one edit and insists it applied, so a broken variant can never silently equal the real one. */
function broken(edit: (s: string) => string): string {
  const out = edit(source)
  if (out === source) throw new Error('the edit did not change sst.config.ts; update this test')
  return out
}

describe('sst.config.ts shape (recording stand-ins, no AWS)', () => {
  it('matches core’s table, the repo’s files and the linking rules', async () => {
    const ev = await evaluateSstConfig(source)
    expect(checkSstShape(ev, source)).toEqual([])
  })

  const cases: [string, (s: string) => string, RegExp][] = [
    ['TTL attribute changed', (s) => s.replace('ttl: tableDefinition.ttlAttribute', "ttl: 'expiresAt'"), /table ttl "expiresAt" != core "ttl"/],
    ['the task launch link removed from the function', (s) => s.replace('link: [tableLink, workerLaunch, dataKey]', 'link: [tableLink, dataKey]'), /function must link the task launch/],
    ['the table component linked (dynamodb:* on it)', (s) => s.replace('link: [tableLink, workerLaunch, dataKey]', 'link: [table, workerLaunch, dataKey]'), /function Api links a component whose link grants broad permissions/],
    ['SST’s own task role (ssmmessages:*)', (s) => s.replace('taskRole: workerRole.name,', ''), /the task must run as WorkerTaskRole/],
    ['the sweeper bundled by SST from source', (s) => s.replace("...shipped('sweeper'),", "handler: 'packages/functions/src/sweeper.handler',"), /cron Sweeper must deploy a prebuilt bundle/],
    ['no build before deploy (a stale dist could ship)', (s) => s.replace("execFileSync(process.execPath, [...LAMBDA_BUILD_ARGS], { cwd: $cli.paths.root, stdio: 'inherit' })", 'void execFileSync'), /must run the Lambda build \(node --import tsx scripts\/build.ts lambda\) exactly once, ran it 0 times/],
    ['the build through a package.json script (which could say anything)', (s) => s.replace("execFileSync(process.execPath, [...LAMBDA_BUILD_ARGS],", "execFileSync('npm', ['run', 'build'],"), /the config runs `npm run build`: only the Lambda build/],
    ['a handler outside the bundle', (s) => s.replace('handler: LAMBDA_HANDLER })', "handler: 'lambda.handler' })"), /handler must be "index.handler"/],
    ['the API deploying the sweeper bundle', (s) => s.replace("...shipped('api'),", "...shipped('sweeper'),"), /the api bundle must be deployed by exactly one function, is by none/],
    ['a GSI dropped', (s) => s.replace('(def.GlobalSecondaryIndexes ?? []).map(', '(def.GlobalSecondaryIndexes ?? []).slice(1).map('), /table globalIndexes/],
    ['Dockerfile path wrong', (s) => s.replace("dockerfile: 'packages/worker/Dockerfile'", "dockerfile: 'worker/Dockerfile'"), /Dockerfile "worker\/Dockerfile" does not exist/],
    ['the function URL answering CORS too', (s) => s.replace('url: { cors: false }', 'url: true'), /function URL must have its own CORS off/],
    ['the task-stopped rule catching every cluster', (s) => s.replace('clusterArn: [cluster.nodes.cluster.arn],', ''), /the task-stopped rule must match/],
    ['the stream subscriber filters out link items', (s) => s.replace("{ dynamodb: { Keys: { sk: { S: ['LINK'] } } } }, ", ''), /must let link items \(sk LINK\) through/],
    ['the retry cron without the key', (s) => s.replace("function: { ...shipped('webhookRetry'), ...webhookFunction },", "function: { ...shipped('webhookRetry'), ...webhookFunction, link: [tableLink] },"), /cron WebhookRetry must link/],
    ['the stream subscriber bundled by SST from source', (s) => s.replace("...shipped('webhookStream'),", "handler: 'packages/functions/src/webhook-stream.handler',"), /subscriber WebhookStream must deploy a prebuilt bundle/],
    ['the stream subscriber linking the key (it signs nothing)', (s) => s.replace("timeout: '30 seconds',\n        link: [tableLink],", "timeout: '30 seconds',\n        link: [tableLink, dataKey],"), /the stream subscriber must link the table only/],
    ['the stream subscriber not told the delivery function', (s) => s.replace('WEBHOOK_DELIVER_FUNCTION: webhookDeliver.arn', "WEBHOOK_DELIVER_FUNCTION: 'WebhookDeliver'"), /the stream subscriber must be told WebhookDeliver's ARN/],
    ['the delivery function with Lambda’s default async retries', (s) => s.replace('maximumRetryAttempts: 0,', ''), /WebhookDeliver needs one FunctionEventInvokeConfig with maximumRetryAttempts 0 or 1/],
    ['the delivery function bundled by SST from source', (s) => s.replace("...shipped('webhookDeliver'),", "handler: 'packages/functions/src/webhook-deliver.handler',"), /function WebhookDeliver must deploy a prebuilt bundle/],
    ['the task-stopped rule without its target', (s) => s.replace("new aws.cloudwatch.EventTarget('WorkerTaskStoppedTarget', {", "void ({"), /must target the TaskStopped function/],
    ['warm hosts without their stop timeout', (s) => s.replace('stopTimeout: 120', 'stopTimeout: 30'), /stopTimeout 120/],
    ['warm hosts building their own image', (s) => s.replace("image: worker.nodes.taskDefinition.containerDefinitions.apply((defs) => JSON.parse(defs)[0].image as string),", "image: { context: '.', dockerfile: 'packages/worker/Dockerfile' },"), /must run the worker task's image/],
    ['warm hosts in one-link mode', (s) => s.replace("environment: { ...workerEnv, WORKER_MODE: 'host' },", 'environment: workerEnv,'), /WORKER_MODE=host/],
    ['key rotation off', (s) => s.replace('enableKeyRotation: true', 'enableKeyRotation: false'), /enableKeyRotation/],
    ['a secret in the task environment', (s) => s.replace("LOG_LEVEL: 'info',", "LOG_LEVEL: 'info', WA_MASTER_KEY: 'hunter2',"), /must not carry secret material \(WA_MASTER_KEY\)/],
    ['prod not protected', (s) => s.replace('protect: prod,', 'protect: false,'), /prod must be removal "retain" and protect true/],
    ['a top-level import', (s) => `import { tableDefinition } from './packages/core/src/store/table.ts'\n${s}`, /top-level imports are not allowed/],
  ]
  it.each(cases)('fails when %s', async (_name, edit, why) => {
    const variant = broken(edit)
    const problems = checkSstShape(await evaluateSstConfig(variant), variant)
    expect(problems.join('\n')).toMatch(why)
  })
})

describe('warm worker hosts per stage', () => {
  const hostsOf = (ev: Awaited<ReturnType<typeof evaluateSstConfig>>) => ev.resources.find((r) => r.type === 'sst.aws.Service' && r.name === 'WorkerHosts')!.args
  /** A function's environment (a cron's is its function's). */
  const envOf = (ev: Awaited<ReturnType<typeof evaluateSstConfig>>, name: string) => {
    const r = ev.resources.find((x) => x.name === name)!
    return (r.args.function ?? r.args).environment
  }

  it('prod runs 1, any other stage 0, WARM_WORKERS at deploy time overrides; the functions that dispatch are told the same, and OVERFLOW_HOSTS', async () => {
    const cases = [['prod', undefined, undefined, 1, '0'], ['alice', undefined, undefined, 0, '0'], ['alice', '3', undefined, 3, '0'], ['prod', '0', undefined, 0, '0'], ['alice', undefined, '1', 0, '1']] as const
    for (const [stage, warm, overflow, n, told] of cases) {
      const ev = await evaluateSstConfig(source, stage, { WARM_WORKERS: warm, OVERFLOW_HOSTS: overflow })
      expect(checkSstShape(ev, source)).toEqual([])
      expect(hostsOf(ev).scaling).toEqual({ min: n, max: n })
      for (const fn of ['Api', 'TaskStopped']) expect(envOf(ev, fn)).toMatchObject({ WARM_WORKERS: String(n), OVERFLOW_HOSTS: told })
      expect(envOf(ev, 'Sweeper')).toMatchObject({ WARM_WORKERS: String(n), OVERFLOW_HOSTS: told })
    }
  })

  it('the shape check fails when a function that dispatches is not told', async () => {
    const variant = broken((s) => s.replace('environment: { TABLE_NAME: table.name, ...dispatchEnv },\n      },', 'environment: { TABLE_NAME: table.name },\n      },'))
    expect(checkSstShape(await evaluateSstConfig(variant, 'alice', { OVERFLOW_HOSTS: '1' }), variant).join('\n')).toMatch(/cron Sweeper must be told \{"WARM_WORKERS":"0","OVERFLOW_HOSTS":"1"\}/)
  })

  it('refuses a WARM_WORKERS that is not a whole number, or an OVERFLOW_HOSTS other than 0 or 1, naming the variable', async () => {
    await expect(evaluateSstConfig(source, 'prod', { WARM_WORKERS: 'two' })).rejects.toThrow('Invalid configuration: WARM_WORKERS: must be a whole number of hosts (0 or more), not "two"')
    await expect(evaluateSstConfig(source, 'prod', { WARM_WORKERS: '-1' })).rejects.toThrow(/WARM_WORKERS/)
    await expect(evaluateSstConfig(source, 'alice', { OVERFLOW_HOSTS: 'yes' })).rejects.toThrow('Invalid configuration: OVERFLOW_HOSTS: must be 0 or 1, not "yes"')
  })
})

/** Every grant, exactly. Tokens stand for the resources' ARNs (recording stand-ins). */
describe('IAM: each role gets exactly the calls its code makes', () => {
  const TABLE = '<sst.aws.Dynamo:LinkTable.arn>'
  const KEY = '<aws.kms.Key:DataKeyKey.arn>'
  const CLUSTER = 'arn:aws:ecs:us-east-1:111122223333:cluster/Cluster'
  // Item calls on the table; Query on the table and its indexes.
  const tableCalls = (...actions: string[]) => [
    { Effect: 'Allow', Action: actions.map((a) => `dynamodb:${a}`).sort(), Resource: [TABLE] },
    { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: [TABLE, `${TABLE}/index/*`] },
  ]
  const dataKeys = (...Action: string[]) => ({
    Effect: 'Allow',
    Action,
    Resource: [KEY],
    Condition: { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['linkId'] }, StringLike: { 'kms:EncryptionContext:linkId': ['lnk_*'] } },
  })
  const secretKeys = (...Action: string[]) => ({
    Effect: 'Allow',
    Action,
    Resource: [KEY],
    Condition: { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenantId'] }, StringLike: { 'kms:EncryptionContext:tenantId': ['*'] } },
  })
  const onCluster = { ArnEquals: { 'ecs:cluster': [CLUSTER] } }

  const startWorkers = [
    { Effect: 'Allow', Action: ['ecs:RunTask'], Resource: ['<sst.aws.Task:Worker.taskDefinition>'], Condition: onCluster },
    {
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: ['<aws.iam.Role:WorkerTaskRole.arn>', '<sst.aws.Task:Worker.nodes.executionRole.arn>'],
      Condition: { StringEquals: { 'iam:PassedToService': ['ecs-tasks.amazonaws.com'] } },
    },
  ]

  it('worker, API, sweeper, task-stopped, webhooks', async () => {
    const iam = iamStatements(await evaluateSstConfig(source))
    // Which item calls each role needs is derived from its shipped code in iam.test.ts; here the
    // statements themselves (resources, conditions) are pinned.
    const everyItemCall = tableCalls('BatchGetItem', 'BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'UpdateItem')
    expect(iam).toEqual({
      // Parses untrusted WhatsApp traffic: items of this table, and its links' data keys. No Scan, no
      // ConditionCheckItem, no table/backup/stream calls, no Encrypt or DescribeKey, no ECS Exec.
      'role WorkerTaskRole': [...everyItemCall, dataKeys('kms:Decrypt', 'kms:GenerateDataKey')],
      'function Api': [...everyItemCall, ...startWorkers, dataKeys('kms:Decrypt'), secretKeys('kms:Decrypt', 'kms:GenerateDataKey')],
      // …and sends again a logout whose worker died: to a new task when no warm host has room.
      'cron Sweeper': [
        ...tableCalls('BatchWriteItem', 'DeleteItem', 'GetItem', 'UpdateItem'),
        { Effect: 'Allow', Action: ['ecs:ListTasks'], Resource: ['*'], Condition: onCluster },
        { Effect: 'Allow', Action: ['ecs:DescribeTasks', 'ecs:StopTask'], Resource: ['arn:aws:ecs:us-east-1:111122223333:task/Cluster/*'] },
        ...startWorkers,
      ],
      'function TaskStopped': tableCalls('BatchWriteItem', 'DeleteItem', 'GetItem', 'UpdateItem'),
      // Webhooks sign with the tenants' secrets, whose data keys are bound to {tenantId}: none of the
      // links' credential keys, and the worker cannot unwrap these.
      // The stream subscriber records events and hands their delivery to WebhookDeliver: two item
      // calls (no reads, no index), that one function's Invoke, and no key at all.
      'subscriber WebhookStream': [
        { Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], Resource: [TABLE] },
        { Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: ['<sst.aws.Function:WebhookDeliver.arn>'] },
      ],
      'function WebhookDeliver': [...tableCalls('GetItem', 'PutItem', 'UpdateItem'), secretKeys('kms:Decrypt', 'kms:GenerateDataKey')],
      'cron WebhookRetry': [...tableCalls('GetItem', 'PutItem', 'UpdateItem'), secretKeys('kms:Decrypt', 'kms:GenerateDataKey')],
    })
  })

  it('fails when a grant widens', async () => {
    const widened = broken((s) => s.replace("{ actions: ['dynamodb:Query'], resources:", "{ actions: ['dynamodb:Query', 'dynamodb:Scan'], resources:"))
    const iam = iamStatements(await evaluateSstConfig(widened))
    expect(iam['role WorkerTaskRole'][1].Action).toContain('dynamodb:Scan')
    const noCondition = broken((s) => s.replace("{ test: 'StringLike', variable: 'kms:EncryptionContext:linkId', values: ['lnk_*'] },", ''))
    expect((iamStatements(await evaluateSstConfig(noCondition))['role WorkerTaskRole'][2].Condition as object)).not.toHaveProperty('StringLike')
  })
})
