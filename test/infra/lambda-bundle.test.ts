import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, ListStreamsCommand, type _Record } from '@aws-sdk/client-dynamodb-streams'
import { KMSClient } from '@aws-sdk/client-kms'
import { Webhook } from 'standardwebhooks'
import { ApiKeyStore } from '@wa-link-broker/core/auth'
import { RESOURCE_NAMES } from '@wa-link-broker/core/config'
import { KmsKeyProvider } from '@wa-link-broker/core/crypto'
import { newLinkId } from '@wa-link-broker/core/link'
import { createLogger } from '@wa-link-broker/core/logger'
import { LinkStore } from '@wa-link-broker/core/store'
import { WebhookEventStore, WebhookSecretStore } from '@wa-link-broker/core/webhooks'
import { buildWebhookDelivery, parseDeliverRequest } from '@wa-link-broker/functions'
import { createStreamsClient } from '@wa-link-broker/core/webhooks/stream-reader'
import { LAMBDA_ENTRIES } from '../../scripts/build.ts'
import { localClientConfig, startAwsJsonServer } from '../fixtures/aws-json-server.ts'
import { taskStoppedEvent } from '../fixtures/ecs-events.ts'
import { envOf, startFakeEcs } from '../fixtures/fake-ecs.ts'
import { startFakeLambda } from '../fixtures/fake-lambda.ts'
import { createTestTable } from '../support/store.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts'
import { CRON_V2_EVENT, filesIn, functionUrlEvent, invokeShipped, packageLikeSst, withSstBanner, type Invocation } from './shipped-lambda.ts'
import { LAMBDA_BUILD_ARGS } from '../../scripts/lambda-bundling.ts'
import { deployedBundles, evaluateSstConfig, isLambdaBuild, readConfigSource, ROOT } from './sst-shape.ts'

/**
 * The deployed Lambda code is what sst.config.ts's own build writes into the directories its
 * functions deploy (`bundle`). So here the config is evaluated, the build command it ran is run
 * for real, exactly as recorded (the Node running it, its arguments, the repo root), and each
 * function's `bundle` directory is packaged as SST packages it, imported and invoked in a fresh
 * process with the events AWS sends. Whatever the config's build does, this tests its output.
 */
let dirs: Record<string, string>
const dirOf = (name: keyof typeof LAMBDA_ENTRIES) => dirs[name]

beforeAll(async () => {
  const ev = await evaluateSstConfig(readConfigSource())
  const [build, ...more] = ev.commands.filter(isLambdaBuild)
  expect(build && more.length === 0, 'sst.config.ts runs the Lambda build once').toBe(true)
  const run = spawnSync(build.file, build.args, { ...build.options, stdio: 'pipe', encoding: 'utf8' })
  expect(run.status, run.stderr).toBe(0)
  dirs = Object.fromEntries(Object.values(deployedBundles(ev)).map((dir) => [basename(dir), dir]))
}, 180_000)

const TASK_LINK = {
  cluster: 'arn:aws:ecs:us-east-1:111122223333:cluster/wa-link-broker-ci-ClusterCluster-abc',
  containers: ['Worker'],
  taskDefinition: 'arn:aws:ecs:us-east-1:111122223333:task-definition/wa-link-broker-ci-ClusterCluster-abc-Worker:3',
  subnets: ['subnet-0a1b2c3d4e5f60001'],
  securityGroups: ['sg-0123456789abcdef0'],
  assignPublicIp: true,
  type: 'sst.sst.Linkable',
}

describe('the build writes one directory per Lambda entry, holding only its bundle', () => {
  it('dist/lambda/<name>/index.mjs for every LAMBDA_ENTRIES name, nothing else (SST zips the whole directory)', () => {
    expect(Object.keys(dirs).sort()).toEqual(Object.keys(LAMBDA_ENTRIES).sort())
    for (const dir of Object.values(dirs)) expect(filesIn(dir)).toEqual(['index.mjs'])
  })
})

describe('the deploy build has no settings of its own', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts', ...args], { cwd: ROOT, encoding: 'utf8' })

  it('refuses any option, so nothing can make it build other than buildLambda()’s defaults', () => {
    for (const args of [['lambda', '--sdk=external'], ['lambda', '--out=elsewhere'], ['worker', '--out=elsewhere'], [], ['lambdas']]) {
      const r = cli(...args)
      expect(r.status, args.join(' ')).not.toBe(0)
      expect(r.stderr).toMatch(/usage: scripts\/build\.ts lambda\|worker \(no options/)
    }
  })

  it('npm run build is the command sst.config.ts runs', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.build).toBe(`node ${LAMBDA_BUILD_ARGS.join(' ')}`)
  })
})

describe('the shipped handlers, packaged as SST packages them, against DynamoDB Local and an ECS-protocol endpoint', () => {
  let table: Awaited<ReturnType<typeof createTestTable>>
  let ecs: Awaited<ReturnType<typeof startFakeEcs>>
  let key: string
  const links = () => ({
    [RESOURCE_NAMES.table]: { name: table.tableName, type: 'sst.sst.Linkable' },
    [RESOURCE_NAMES.task]: TASK_LINK,
    [RESOURCE_NAMES.key]: { id: 'k', arn: 'arn:aws:kms:us-east-1:111122223333:key/k', type: 'sst.sst.Linkable' },
  })
  // Only what differs from AWS: where DynamoDB and ECS answer.
  const endpoints = () => ({ DYNAMODB_ENDPOINT: table.endpoint, AWS_ENDPOINT_URL_ECS: ecs.endpoint, LOG_LEVEL: 'info' })

  beforeAll(async () => {
    table = await createTestTable('shipped')
    key = (await new ApiKeyStore(table.doc, table.tableName).create('acme')).key
    ecs = await startFakeEcs()
  })
  afterAll(() => ecs?.close())

  it('api: /healthz, /openapi.json, a create and a read through Function URL events', async () => {
    const { dir, env } = packageLikeSst(dirOf('api'), links())
    expect(filesIn(dir)).toEqual(['index.mjs', 'resource.enc'])
    const auth = { authorization: `Bearer ${key}` }
    const create = functionUrlEvent('POST', '/v1/links', { headers: auth, body: JSON.stringify({ method: 'code', phoneNumber: '+1 (234) 567-8901' }) })
    const first = await invokeShipped(dir, [functionUrlEvent('GET', '/healthz'), functionUrlEvent('GET', '/openapi.json'), create], { ...env, ...endpoints() })
    expect(first.loadError).toBeUndefined()
    expect(first.stderr).toBe('')
    const [health, openapi, created] = first.results.map((r) => (r.ok ? r.value : expect.fail(r.error)))
    expect(health).toMatchObject({ statusCode: 200 })
    expect(openapi.statusCode).toBe(200)
    expect(JSON.parse(openapi.body).openapi).toMatch(/^3\.1/)
    expect(created.statusCode).toBe(201)
    const { link, clientToken } = JSON.parse(created.body)
    expect(link).toMatchObject({ status: 'pending', method: 'code', phoneNumber: '12345678901' })

    // The RunTask the shipped API sent, configured only by its resource.enc.
    const runTask = ecs.calls.filter((c) => c.operation === 'RunTask').at(-1)!
    expect(runTask.input).toMatchObject({
      cluster: TASK_LINK.cluster,
      taskDefinition: TASK_LINK.taskDefinition,
      // No warm host is registered in this table: the dispatcher starts one more host, for this link.
      overrides: { containerOverrides: [{ name: 'Worker', environment: [{ name: 'LINK_ID', value: link.id }, { name: 'WORKER_MODE', value: 'host' }] }] },
    })

    // A second cold start reads it back with the client token.
    const read = await invokeShipped(dir, [functionUrlEvent('GET', `/v1/links/${link.id}`, { headers: { authorization: `Bearer ${clientToken}` } })], { ...env, ...endpoints() })
    expect(read.stderr).toBe('')
    const [got] = read.results.map((r) => (r.ok ? r.value : expect.fail(r.error)))
    expect(got.statusCode).toBe(200)
    expect(JSON.parse(got.body)).toMatchObject({ id: link.id, status: 'pending' })
    // Logs go to stdout as JSON and carry no secret.
    expect(first.stdout + read.stdout).not.toContain(clientToken)
    expect(first.stdout + read.stdout).not.toContain(key)
  })

  it('api: with WARM_WORKERS=0 a link gets a one-link task, unless OVERFLOW_HOSTS=1 (then a host for it, which stays)', async () => {
    const { dir, env } = packageLikeSst(dirOf('api'), links())
    const create = functionUrlEvent('POST', '/v1/links', { headers: { authorization: `Bearer ${key}` }, body: '{}' })
    const modeFor = async (dispatch: Record<string, string>) => {
      const r = await invokeShipped(dir, [create], { ...env, ...endpoints(), ...dispatch })
      const { link } = JSON.parse((r.results[0] as { value: { body: string } }).value.body)
      const [task] = ecs.tasksFor(link.id)
      return envOf(task).WORKER_MODE
    }
    expect(await modeFor({ WARM_WORKERS: '0' })).toBe('link')
    expect(await modeFor({ WARM_WORKERS: '0', OVERFLOW_HOSTS: '1' })).toBe('host')
  })

  it('api: the hosted link page at the pageUrl a create answers, its CSP, and its script and style, as deployed', async () => {
    const { dir, env } = packageLikeSst(dirOf('api'), links())
    const create = functionUrlEvent('POST', '/v1/links', { headers: { authorization: `Bearer ${key}` }, body: '{}' })
    const created = await invokeShipped(dir, [create], { ...env, ...endpoints() })
    const { link, pageUrl } = JSON.parse((created.results[0] as { value: { body: string } }).value.body)
    const page = new URL(pageUrl)
    expect(page.origin).toBe(`https://${create.headers.host}`)
    expect(page.pathname).toBe(`/link/${link.id}`)
    expect(page.hash).toMatch(/^#token=lct_/)

    const html = await invokeShipped(dir, [functionUrlEvent('GET', page.pathname)], { ...env, ...endpoints() })
    expect(html.stderr).toBe('')
    const [answer] = html.results.map((r) => (r.ok ? r.value : expect.fail(r.error)))
    expect(answer.statusCode).toBe(200)
    const headers = Object.fromEntries(Object.entries(answer.headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]))
    expect(headers['content-type']).toMatch(/^text\/html/)
    expect(headers['content-security-policy']).toMatch(/script-src 'self'/)
    const assets = [...String(answer.body).matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1])
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true)
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true)
    const served = await invokeShipped(dir, assets.map((a) => functionUrlEvent('GET', a)), { ...env, ...endpoints() })
    for (const r of served.results.map((r) => (r.ok ? r.value : expect.fail(r.error)))) {
      expect(r.statusCode).toBe(200)
      expect(String(r.body).length).toBeGreaterThan(1000)
    }
  })

  it('sweeper: the event CronV2 delivers (sweeps the table, lists the cluster’s worker tasks)', async () => {
    const { dir, env } = packageLikeSst(dirOf('sweeper'), links())
    const listed = ecs.calls.length
    const r = await invokeShipped(dir, [CRON_V2_EVENT], { ...env, ...endpoints() })
    expect(r.loadError).toBeUndefined()
    expect(r.stderr).toBe('')
    expect(r.results).toEqual([{ ok: true, value: { lost: 0, expired: 0, stopped: 0 } }])
    expect(ecs.calls.slice(listed).map((c) => c.operation)).toContain('ListTasks')
  })

  it('taskStopped: the EventBridge event of a task that stopped before claiming ends its link launch_failed', async () => {
    const api = packageLikeSst(dirOf('api'), links())
    const created = await invokeShipped(api.dir, [functionUrlEvent('POST', '/v1/links', { headers: { authorization: `Bearer ${key}` }, body: '{}' })], { ...api.env, ...endpoints() })
    const { link } = JSON.parse((created.results[0] as { value: { body: string } }).value.body)
    const [task] = ecs.tasksFor(link.id)
    const event = taskStoppedEvent({
      taskArn: task.taskArn, clusterArn: task.clusterArn, taskDefinitionArn: task.taskDefinitionArn, environment: envOf(task),
      stopCode: 'TaskFailedToStart', stoppedReason: 'ResourceInitializationError: unable to pull secrets or registry auth',
    })
    const { dir, env } = packageLikeSst(dirOf('taskStopped'), links())
    const r = await invokeShipped(dir, [event], { ...env, ...endpoints() })
    expect(r.loadError).toBeUndefined()
    expect(r.stderr).toBe('')
    expect(r.results).toEqual([{ ok: true, value: [{ linkId: link.id, outcome: 'launch_failed' }] }])
    const read = await invokeShipped(api.dir, [functionUrlEvent('GET', `/v1/links/${link.id}`, { headers: { authorization: `Bearer ${key}` } })], { ...api.env, ...endpoints() })
    expect(JSON.parse((read.results[0] as { value: { body: string } }).value.body)).toMatchObject({ status: 'failed', error: { code: 'launch_failed' } })
  })
})

describe('the webhook handlers, packaged as SST packages them, against DynamoDB Local and KMS- and Lambda-protocol endpoints', () => {
  let table: Awaited<ReturnType<typeof createTestTable>>
  let kms: Awaited<ReturnType<typeof startAwsJsonServer>>
  let lambda: Awaited<ReturnType<typeof startFakeLambda>>
  let receiver: WebhookReceiver
  let events: WebhookEventStore
  const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/k'
  const DELIVER_ARN = 'arn:aws:lambda:us-east-1:111122223333:function:wa-link-broker-ci-WebhookDeliverFunction-abc'
  const dataKey = Buffer.alloc(32, 9)
  // As deployed: the stream subscriber links the table only and is told the delivery function; the
  // delivery function and the retry Cron link the table and the key.
  const streamLinks = () => ({ [RESOURCE_NAMES.table]: { name: table.tableName, type: 'sst.sst.Linkable' } })
  const deliverLinks = () => ({ ...streamLinks(), [RESOURCE_NAMES.key]: { id: 'k', arn: KEY_ARN, type: 'sst.sst.Linkable' } })
  // Only what differs from AWS: where DynamoDB, KMS and Lambda answer.
  const endpoints = () => ({ DYNAMODB_ENDPOINT: table.endpoint, KMS_ENDPOINT: kms.endpoint, AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint, LOG_LEVEL: 'info' })
  const streamEnv = () => ({ ...endpoints(), WEBHOOK_DELIVER_FUNCTION: DELIVER_ARN })
  const ok = (r: Invocation) => r.results.map((x) => (x.ok ? x.value : expect.fail(x.error)))

  beforeAll(async () => {
    table = await createTestTable('shippedhooks')
    events = new WebhookEventStore(table.doc, table.tableName)
    // KMS at the wire: a data key for the tenant's signing secret, unwrapped again on delivery.
    kms = await startAwsJsonServer((call) =>
      call.operation === 'GenerateDataKey'
        ? { body: { KeyId: KEY_ARN, Plaintext: dataKey.toString('base64'), CiphertextBlob: Buffer.from('wrapped').toString('base64') } }
        : { body: { KeyId: KEY_ARN, Plaintext: dataKey.toString('base64') } },
    )
    lambda = await startFakeLambda()
    receiver = await startWebhookReceiver()
  })
  afterAll(async () => {
    await kms?.close()
    await lambda?.close()
    await receiver?.close()
  })

  /** A link with a webhook URL that reached awaiting_scan with a QR: three writes of its item. */
  async function linkAwaitingScan(webhookUrl: string): Promise<string> {
    const store = new LinkStore(table.doc, table.tableName)
    const id = newLinkId()
    const now = new Date()
    await store.create({
      id, tenantId: 'acme', status: 'pending', method: 'qr', phoneNumber: null, qr: null, pairingCode: null, account: null, error: null, metadata: {},
      webhookUrl, redirectUrl: null, createdAt: now.toISOString(), updatedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 300_000).toISOString(), version: 1, leaseToken: 0, heartbeatAt: null, clientTokenHashes: [],
    })
    const claimed = await store.claim(id, ['pending'], 'starting')
    await store.update(id, { from: ['starting'], to: 'awaiting_scan', fence: claimed.leaseToken, patch: { qr: { value: 'https://wa.me/settings/linked_devices#bundle', sequence: 1, expiresAt: new Date(Date.now() + 60_000).toISOString() } } })
    return id
  }

  /** The link's item records exactly as DynamoDB Streams hands them to Lambda's event source. */
  async function streamEventOf(linkId: string) {
    const streams = createStreamsClient({ dynamodbEndpoint: table.endpoint })
    const { Streams } = await streams.send(new ListStreamsCommand({ TableName: table.tableName }))
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: Streams![0].StreamArn }))
    const records: _Record[] = []
    for (const shard of StreamDescription!.Shards!) {
      let { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: Streams![0].StreamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))
      while (ShardIterator) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator }))
        if (!page.Records?.length) break
        records.push(...page.Records)
        ShardIterator = page.NextShardIterator
      }
    }
    const mine = records.filter((r) => r.dynamodb?.Keys?.pk?.S === `LINK#${linkId}`)
    return { Records: mine.map((r) => ({ eventID: r.eventID, eventName: r.eventName, eventSource: 'aws:dynamodb', dynamodb: { ...r.dynamodb, ApproximateCreationDateTime: 1 } })) }
  }

  it('webhookStream records the events of real stream records (once, however often replayed) and hands the link to WebhookDeliver with an async Invoke; webhookDeliver serves it (as deployed, a loopback URL is refused); webhookRetry serves it when due', async () => {
    const id = await linkAwaitingScan(`https://localhost:${new URL(receiver.origin).port}/hook`)
    const event = await streamEventOf(id)
    expect(event.Records.length).toBeGreaterThanOrEqual(3)

    const { dir, env } = packageLikeSst(dirOf('webhookStream'), streamLinks())
    const invoked = lambda.calls.length
    // Lambda retries a batch: the second invocation is the same batch again.
    const r = await invokeShipped(dir, [event, event], { ...env, ...streamEnv() })
    expect(r.loadError).toBeUndefined()
    expect(r.stderr).toBe('')
    expect(ok(r)).toEqual([{ records: event.Records.length, links: 1 }, { records: event.Records.length, links: 1 }])
    const stored = await events.list(id)
    // One event, recorded and not attempted: the stream makes no delivery and reads no secret.
    expect(stored).toHaveLength(1)
    expect(stored[0]).toMatchObject({ type: 'link.awaiting_scan', state: 'pending', attempts: 0 })
    expect(kms.calls).toEqual([])
    // The Invoke the SDK sent, per batch: the delivery function, asynchronously, with the link's id.
    const sent = lambda.calls.slice(invoked)
    expect(sent).toHaveLength(2)
    for (const call of sent) {
      expect(call).toMatchObject({ method: 'POST', functionName: DELIVER_ARN, payload: { linkIds: [id] } })
      expect(call.headers['x-amz-invocation-type']).toBe('Event')
      expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/lambda\/aws4_request/)
    }

    // The delivery function, invoked with that payload (twice, as Lambda may deliver an async event twice).
    const deliver = packageLikeSst(dirOf('webhookDeliver'), deliverLinks())
    const d = await invokeShipped(deliver.dir, [sent[0].payload, sent[1].payload], { ...deliver.env, ...endpoints() })
    expect(d.loadError).toBeUndefined()
    expect(d.stderr).toBe('')
    expect(ok(d)).toEqual([{ links: 1 }, { links: 1 }])
    // One attempt (the second run found the retry not yet due), signed with the tenant's secret, refused before any connection.
    const attempted = await events.list(id)
    expect(attempted[0]).toMatchObject({ state: 'pending', attempts: 1, lastError: 'address_refused' })
    expect(receiver.received).toHaveLength(0)
    expect(kms.calls.find((c) => c.operation === 'GenerateDataKey')?.input).toMatchObject({ KeyId: KEY_ARN, EncryptionContext: { tenantId: 'acme' } })
    for (const out of [r.stdout, d.stdout]) {
      expect(out).not.toContain('linked_devices#bundle')
      expect(out).not.toContain('localhost')
    }

    // Due again (here: redelivered), the retry Cron's handler serves it.
    await events.redeliver(attempted[0], new Date())
    const retry = packageLikeSst(dirOf('webhookRetry'), deliverLinks())
    const rr = await invokeShipped(retry.dir, [CRON_V2_EVENT], { ...retry.env, ...endpoints() })
    expect(rr.loadError).toBeUndefined()
    expect(rr.stderr).toBe('')
    expect(ok(rr)).toEqual([{ links: 1 }])
    expect((await events.list(id))[0]).toMatchObject({ attempts: 2, lastError: 'address_refused' })
    expect(receiver.received).toHaveLength(0)
  })

  it('the payload the shipped stream subscriber sent, served by the delivery function’s code with a receiver it may reach, arrives signed with the tenant’s secret', async () => {
    // As deployed the delivery function refuses loopback and http:// (above); here the same handler
    // code runs in this process with the local outbound policy, so the delivery can reach the receiver.
    const id = await linkAwaitingScan(`${receiver.origin}/handoff`)
    const { dir, env } = packageLikeSst(dirOf('webhookStream'), streamLinks())
    const invoked = lambda.calls.length
    const r = await invokeShipped(dir, [await streamEventOf(id)], { ...env, ...streamEnv() })
    expect(r.stderr).toBe('')
    expect(ok(r)).toEqual([{ records: 3, links: 1 }])
    const [call] = lambda.calls.slice(invoked)
    expect(call.headers['x-amz-invocation-type']).toBe('Event')
    const linkIds = parseDeliverRequest(call.payload)
    expect(linkIds).toEqual([id])

    const logger = createLogger({ name: 'test', level: 'silent' })
    const keys = new KmsKeyProvider(new KMSClient(localClientConfig(kms.endpoint)), KEY_ARN)
    const delivery = buildWebhookDelivery({ config: { tableName: table.tableName, region: 'us-east-1', dynamodbEndpoint: table.endpoint }, keys, local: true, logger })
    try {
      expect(await delivery.dispatcher.processLinks(linkIds!)).toBe(1)
    } finally {
      await delivery.stop()
    }
    const [hook] = receiver.forLink(id)
    expect(hook).toMatchObject({ path: '/handoff', status: 200 })
    const [secret] = await new WebhookSecretStore(table.doc, table.tableName, keys).signingSecrets('acme')
    expect(new Webhook(secret).verify(hook.body, hook.headers)).toMatchObject({ type: 'link.awaiting_scan', data: { link: { id, status: 'awaiting_scan' } } })
    expect((await events.list(id))[0]).toMatchObject({ state: 'delivered', attempts: 1 })
  })

  it('a failing Invoke does not fail the stream batch: the events are recorded and due, and the retry Cron finds them', async () => {
    const id = await linkAwaitingScan(`https://localhost:${new URL(receiver.origin).port}/failed-handoff`)
    const { dir, env } = packageLikeSst(dirOf('webhookStream'), streamLinks())
    const invoked = lambda.calls.length
    lambda.fail = true
    let r: Invocation
    try {
      r = await invokeShipped(dir, [await streamEventOf(id)], { ...env, ...streamEnv() })
    } finally {
      lambda.fail = false
    }
    expect(r.loadError).toBeUndefined()
    expect(r.stderr).toBe('')
    expect(ok(r)).toEqual([{ records: 3, links: 1 }])
    // The SDK tried the Invoke three times (its retries of a 5xx); the warning says how much failed, not which links.
    expect(lambda.calls.length - invoked).toBe(3)
    const warning = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => /hand-off failed/.test(l.msg))
    expect(warning).toMatchObject({ level: 40, invocations: 1, failedInvocations: 1, links: 1, failedLinks: 1 })
    expect(JSON.stringify(warning)).not.toContain(id)

    expect((await events.list(id))[0]).toMatchObject({ state: 'pending', attempts: 0 })
    expect(await events.dueLinks(new Date())).toContain(id)
    const retry = packageLikeSst(dirOf('webhookRetry'), deliverLinks())
    const rr = await invokeShipped(retry.dir, [CRON_V2_EVENT], { ...retry.env, ...endpoints() })
    expect(rr.stderr).toBe('')
    expect(ok(rr)[0].links).toBeGreaterThanOrEqual(1)
    expect((await events.list(id))[0]).toMatchObject({ attempts: 1, lastError: 'address_refused' })
  })
})

describe('the check fails for an artifact that would not load', () => {
  it("a bundle with SST's own banner in front (a second `require` declaration) does not load", async () => {
    const { dir, env } = packageLikeSst(withSstBanner(dirOf('api')), {})
    const r = await invokeShipped(dir, [functionUrlEvent('GET', '/healthz')], env)
    expect(r.loadError).toMatch(/SyntaxError: Identifier 'require' has already been declared/)
    expect(r.results).toEqual([])
  })
})
