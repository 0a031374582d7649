import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, ListStreamsCommand } from '@aws-sdk/client-dynamodb-streams'
import { ApiKeyStore, createStreamsClient, LinkStore, newLinkId, WebhookEventStore } from '@wa-link-broker/core'
import { buildLambda, type BuiltBundle } from '../../scripts/build.ts'
import { startAwsJsonServer } from '../fixtures/aws-json-server.ts'
import { createTestTable } from '../support/store.ts'

/** The deployable bundles actually run: build them as `npm run build` does and invoke them. */
describe('Lambda bundles', () => {
  let bundles: BuiltBundle[]
  beforeAll(async () => {
    bundles = await buildLambda({ outDir: mkdtempSync(join(tmpdir(), 'lambda-')) })
  }, 120_000)

  const env = {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    TABLE_NAME: 'bundle-smoke',
    LOG_LEVEL: 'silent',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    KMS_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/smoke',
    ECS_CLUSTER: 'arn:aws:ecs:us-east-1:111122223333:cluster/smoke',
    ECS_TASK_DEFINITION: 'arn:aws:ecs:us-east-1:111122223333:task-definition/smoke:1',
    ECS_SUBNETS: 'subnet-1',
    ECS_SECURITY_GROUPS: 'sg-1',
  }
  const run = (code: string) => spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8', timeout: 30_000 })

  it('api: serves /healthz, /openapi.json through the Function URL handler', () => {
    const file = pathToFileURL(bundles.find((b) => b.name === 'api')!.file).href
    const event = (method: string, path: string, body?: string) => ({
      version: '2.0', rawPath: path, rawQueryString: '', headers: { 'content-type': 'application/json', host: 'x.lambda-url.us-east-1.on.aws' },
      requestContext: { http: { method, path, sourceIp: '127.0.0.1' }, domainName: 'x.lambda-url.us-east-1.on.aws', requestId: 'r' },
      body, isBase64Encoded: false,
    })
    const r = run(`
      const { handler } = await import(${JSON.stringify(file)})
      const out = []
      for (const e of ${JSON.stringify([event('GET', '/healthz'), event('GET', '/openapi.json')])}) {
        const res = await handler(e, {})
        out.push({ status: res.statusCode, body: String(res.body).slice(0, 200) })
      }
      console.log(JSON.stringify(out))
    `)
    expect(r.stderr).toBe('')
    const [health, openapi] = JSON.parse(r.stdout)
    expect(health.status).toBe(200)
    expect(openapi.status).toBe(200)
    expect(openapi.body).toContain('"openapi":"3.1')
  })

  describe('against DynamoDB Local and an ECS-protocol endpoint', () => {
    let table: Awaited<ReturnType<typeof createTestTable>>
    let ecs: Awaited<ReturnType<typeof startAwsJsonServer>>
    let key: string
    beforeAll(async () => {
      table = await createTestTable('bundle')
      key = (await new ApiKeyStore(table.doc, table.tableName).create('acme')).key
      ecs = await startAwsJsonServer(() => ({ body: { tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:111122223333:task/smoke/1' }], failures: [] } }))
    })
    afterAll(() => ecs?.close())

    // The child process is async here: the fake ECS endpoint lives in this process's event loop.
    const runAsync = (code: string) =>
      new Promise<{ stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
          env: { ...env, TABLE_NAME: table.tableName, DYNAMODB_ENDPOINT: table.endpoint, AWS_ENDPOINT_URL_ECS: ecs.endpoint },
        })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d) => (stdout += d))
        child.stderr.on('data', (d) => (stderr += d))
        child.on('exit', () => resolve({ stdout, stderr }))
      })

    it('api: starts a link (one RunTask for it) and reads it back, as deployed', async () => {
      const file = pathToFileURL(bundles.find((b) => b.name === 'api')!.file).href
      const event = (method: string, path: string, body?: string) => ({
        version: '2.0', rawPath: path, rawQueryString: '', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, host: 'x.lambda-url.us-east-1.on.aws' },
        requestContext: { http: { method, path, sourceIp: '127.0.0.1' }, domainName: 'x.lambda-url.us-east-1.on.aws', requestId: 'r' },
        body, isBase64Encoded: false,
      })
      const r = await runAsync(`
        const { handler } = await import(${JSON.stringify(file)})
        const created = await handler(${JSON.stringify(event('POST', '/v1/links', '{"method":"code","phoneNumber":"+1 (234) 567-8901"}'))}, {})
        const id = JSON.parse(created.body).link.id
        const read = await handler({ ...${JSON.stringify(event('GET', '/v1/links/ID'))}, rawPath: '/v1/links/' + id, requestContext: { ...${JSON.stringify(event('GET', '/').requestContext)}, http: { method: 'GET', path: '/v1/links/' + id } } }, {})
        console.log(JSON.stringify({ created: created.statusCode, read: read.statusCode, link: JSON.parse(read.body) }))
      `)
      expect(r.stderr).toBe('')
      const out = JSON.parse(r.stdout)
      expect(out).toMatchObject({ created: 201, read: 200, link: { status: 'pending', method: 'code', phoneNumber: '12345678901' } })
      expect(ecs.calls).toHaveLength(1)
      expect(ecs.calls[0].input).toMatchObject({ cluster: env.ECS_CLUSTER, overrides: { containerOverrides: [{ environment: [{ name: 'LINK_ID', value: out.link.id }, { name: 'WORKER_MODE', value: 'link' }] }] } })
    })

    it('sweeper: sweeps the table', async () => {
      const file = pathToFileURL(bundles.find((b) => b.name === 'sweeper')!.file).href
      const r = await runAsync(`const { handler } = await import(${JSON.stringify(file)}); console.log(JSON.stringify(await handler()))`)
      expect(r.stderr).toBe('')
      expect(JSON.parse(r.stdout)).toEqual({ lost: 0, expired: 0 })
    })
  })

  describe('webhook bundles, against DynamoDB Local, a KMS-protocol endpoint and a receiver on loopback', () => {
    let table: Awaited<ReturnType<typeof createTestTable>>
    let kms: Awaited<ReturnType<typeof startAwsJsonServer>>
    let receiver: Server
    let receiverHits = 0
    const dataKey = Buffer.alloc(32, 9)
    beforeAll(async () => {
      table = await createTestTable('bundlehooks')
      // KMS at the wire: a data key for the tenant's signing secret, unwrapped again on delivery.
      kms = await startAwsJsonServer((call) =>
        call.operation === 'GenerateDataKey'
          ? { body: { KeyId: env.KMS_KEY_ID, Plaintext: dataKey.toString('base64'), CiphertextBlob: Buffer.from('wrapped').toString('base64') } }
          : { body: { KeyId: env.KMS_KEY_ID, Plaintext: dataKey.toString('base64') } },
      )
      receiver = createServer((_req, res) => {
        receiverHits++
        res.end()
      })
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()))
    })
    afterAll(async () => {
      await kms?.close()
      receiver?.close()
    })

    const runBundle = (name: string, code: string) =>
      new Promise<{ stdout: string; stderr: string }>((resolve) => {
        const file = pathToFileURL(bundles.find((b) => b.name === name)!.file).href
        const child = spawn(process.execPath, ['--input-type=module', '-e', `const { handler } = await import(${JSON.stringify(file)});\n${code}`], {
          env: { ...env, TABLE_NAME: table.tableName, DYNAMODB_ENDPOINT: table.endpoint, KMS_ENDPOINT: kms.endpoint },
        })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d) => (stdout += d))
        child.stderr.on('data', (d) => (stderr += d))
        child.on('exit', () => resolve({ stdout, stderr }))
      })

    it('webhookStream: a real stream record becomes a recorded event, and as deployed (AWS mode) a loopback URL is refused', async () => {
      const store = new LinkStore(table.doc, table.tableName)
      const id = newLinkId()
      const now = new Date()
      await store.create({
        id, tenantId: 'acme', status: 'pending', method: 'qr', phoneNumber: null, qr: null, pairingCode: null, account: null, error: null, metadata: {},
        webhookUrl: `https://localhost:${(receiver.address() as AddressInfo).port}/hook`, createdAt: now.toISOString(), updatedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 300_000).toISOString(), version: 1, leaseToken: 0, heartbeatAt: null, clientTokenHashes: [],
      })
      const claimed = await store.claim(id, ['pending'], 'starting')
      await store.update(id, { from: ['starting'], to: 'awaiting_scan', fence: claimed.leaseToken, patch: { qr: { value: 'https://wa.me/settings/linked_devices#bundle', sequence: 1, expiresAt: new Date(Date.now() + 60_000).toISOString() } } })

      // The records exactly as DynamoDB Streams hands them to Lambda's event source.
      const streams = createStreamsClient({ dynamodbEndpoint: table.endpoint })
      const { Streams } = await streams.send(new ListStreamsCommand({ TableName: table.tableName }))
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: Streams![0].StreamArn }))
      const { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: Streams![0].StreamArn, ShardId: StreamDescription!.Shards![0].ShardId, ShardIteratorType: 'TRIM_HORIZON' }))
      const { Records } = await streams.send(new GetRecordsCommand({ ShardIterator }))
      const event = { Records: Records!.map((r) => ({ eventID: r.eventID, eventName: r.eventName, eventSource: 'aws:dynamodb', dynamodb: { ...r.dynamodb, ApproximateCreationDateTime: 1 } })) }
      expect(event.Records.length).toBeGreaterThanOrEqual(3)

      const r = await runBundle('webhookStream', `console.log(JSON.stringify(await handler(${JSON.stringify(event)})))`)
      expect(r.stderr).toBe('')
      expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({ records: event.Records.length, links: 1 })
      const [stored] = await new WebhookEventStore(table.doc, table.tableName).list(id)
      expect(stored).toMatchObject({ type: 'link.awaiting_scan', state: 'pending', attempts: 1, lastError: 'address_refused' })
      expect(receiverHits).toBe(0)
      expect(kms.calls.find((c) => c.operation === 'GenerateDataKey')?.input).toMatchObject({ KeyId: env.KMS_KEY_ID, EncryptionContext: { tenantId: 'acme' } })

      // The same batch again (Lambda retries it): no second event, and no attempt before the retry is due.
      const again = await runBundle('webhookStream', `console.log(JSON.stringify(await handler(${JSON.stringify(event)})))`)
      expect(again.stderr).toBe('')
      const afterReplay = await new WebhookEventStore(table.doc, table.tableName).list(id)
      expect(afterReplay).toHaveLength(1)
      expect(afterReplay[0]).toMatchObject({ id: stored.id, attempts: 1 })

      // webhookRetry: once the event is due (here: redelivered), the Cron's handler serves it.
      const events = new WebhookEventStore(table.doc, table.tableName)
      await events.redeliver((await events.list(id))[0], new Date())
      const retry = await runBundle('webhookRetry', 'console.log(JSON.stringify(await handler()))')
      expect(retry.stderr).toBe('')
      expect(JSON.parse(retry.stdout.trim().split('\n').at(-1)!)).toEqual({ links: 1 })
      expect((await events.list(id))[0]).toMatchObject({ attempts: 2, lastError: 'address_refused' })
      expect(receiverHits).toBe(0)
    })
  })

  it('sweeper: exports handler and its module loads without a table', () => {
    const file = pathToFileURL(bundles.find((b) => b.name === 'sweeper')!.file).href
    const r = run(`const m = await import(${JSON.stringify(file)}); console.log(typeof m.handler)`)
    expect(r.stderr).toBe('')
    expect(r.stdout.trim()).toBe('function')
  })
})
