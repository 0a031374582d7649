import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { LocalKeyProvider } from '@wa-link-broker/core/crypto'
import { newLinkId, type Link } from '@wa-link-broker/core/link'
import { createLogger } from '@wa-link-broker/core/logger'
import { DELIVERY_TIMEOUT_MS, linkEventsFromChange, WebhookEventStore, WebhookSecretStore, type StoredEvent } from '@wa-link-broker/core/webhooks'
import { buildWebhookDelivery, createWebhookSender, outboundPolicy, startLocalWebhooks } from '@wa-link-broker/functions'
import { LogCapture, startTestApi } from '../support/api.ts'
import { createTestTable } from '../support/store.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts'

/**
 * Where deliveries may go, decided on the address each connection resolves to: refused in AWS mode
 * for loopback and other non-public addresses, allowed locally. Only this machine's loopback is
 * ever a target here: a refused request never opens a connection.
 */

let receiver: WebhookReceiver
const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
const port = () => new URL(receiver.origin).port

beforeAll(async () => {
  receiver = await startWebhookReceiver()
})
afterAll(() => receiver.close())

function event(url: string, overrides: Partial<Link> = {}): StoredEvent {
  const link: Link = {
    id: newLinkId(), tenantId: 'acme', status: 'starting', method: 'qr', phoneNumber: null, qr: null, pairingCode: null,
    account: null, error: null, metadata: {}, webhookUrl: url, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 300_000).toISOString(), version: 2, leaseToken: 1, heartbeatAt: null, clientTokenHashes: [], ...overrides,
  }
  const after = { ...link, status: 'awaiting_scan' as const, version: 3, qr: { value: 'https://wa.me/settings/linked_devices#x', sequence: 1, expiresAt: link.expiresAt } }
  const item = (l: Link) => ({ pk: `LINK#${l.id}`, sk: 'LINK', ...l, metadata: '{}' })
  const [made] = linkEventsFromChange({ eventName: 'MODIFY', keys: { pk: `LINK#${link.id}`, sk: 'LINK' }, oldImage: item(link), newImage: item(after) })
  return { ...made, state: 'pending', attempts: 0, lastHttpStatus: null, lastError: null, lastAttemptAt: null, nextAttemptAt: null, deliveredAt: null }
}

describe('webhook sender', () => {
  it('AWS mode refuses loopback by name and by address, after resolving it, without connecting', async () => {
    const sender = createWebhookSender({ local: false, signingSecrets: async () => [secret] })
    try {
      for (const url of [`https://localhost:${port()}/x`, `https://127.0.0.1:${port()}/x`, `https://[::1]:${port()}/x`, `https://[::ffff:127.0.0.1]:${port()}/x`, `https://127.1.2.3:${port()}/x`]) {
        expect(await sender.deliver(event(url)), url).toEqual({ error: 'address_refused' })
      }
      expect(await sender.deliver(event(`http://localhost:${port()}/x`))).toEqual({ error: 'invalid_url' })
      expect(receiver.received).toHaveLength(0)
    } finally {
      sender.close()
    }
  })

  it('local mode allows http:// and loopback names; the request is signed, JSON, and not redirected', async () => {
    const sender = createWebhookSender({ local: true, signingSecrets: async () => [secret] })
    try {
      const e = event(`http://localhost:${port()}/local`)
      expect(await sender.deliver(e)).toEqual({ httpStatus: 200 })
      const [hook] = receiver.received.filter((h) => h.path === '/local')
      expect(hook.id).toBe(e.id)
      expect(new Webhook(secret).verify(hook.body, hook.headers)).toMatchObject({ type: 'link.awaiting_scan', data: { link: { id: e.linkId, status: 'awaiting_scan' } } })

      // A 3xx is an answer like any other non-2xx: the Location is not followed.
      const redirecting = createServer((_req, res) => res.writeHead(307, { location: `${receiver.origin}/followed` }).end())
      await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', () => resolve()))
      const at = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/r`
      expect(await sender.deliver(event(at))).toEqual({ httpStatus: 307 })
      expect(receiver.received.some((h) => h.path === '/followed')).toBe(false)
      redirecting.close()
    } finally {
      sender.close()
    }
  })

  it('an answer that takes longer than the timeout is a timeout; a closed port is a network error', async () => {
    const hanging = createServer(() => undefined)
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', () => resolve()))
    const sender = createWebhookSender({ local: true, timeoutMs: 300, signingSecrets: async () => [secret] })
    try {
      const started = Date.now()
      expect(await sender.deliver(event(`http://127.0.0.1:${(hanging.address() as AddressInfo).port}/slow`))).toEqual({ error: 'timeout' })
      expect(Date.now() - started).toBeLessThan(3000)
      const closed = createServer()
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()))
      const closedPort = (closed.address() as AddressInfo).port
      await new Promise<void>((resolve) => closed.close(() => resolve()))
      expect(await sender.deliver(event(`http://127.0.0.1:${closedPort}/`))).toEqual({ error: 'network_error' })
    } finally {
      sender.close()
      hanging.closeAllConnections()
      hanging.close()
    }
  })

  it('the timeout bounds the whole attempt, the signing secrets’ lookup included', async () => {
    const sender = createWebhookSender({ local: true, timeoutMs: 300, signingSecrets: () => new Promise<string[]>(() => undefined) })
    try {
      const started = Date.now()
      const result = await Promise.race([sender.deliver(event(`${receiver.origin}/never-sent`)), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 3000))])
      expect(result).toEqual({ error: 'timeout' })
      expect(Date.now() - started).toBeLessThan(3000)
      expect(receiver.received.some((h) => h.path === '/never-sent')).toBe(false)
    } finally {
      sender.close()
    }
  })

  it('metadata endpoints stay refused even locally; the default timeout is 10 s', async () => {
    expect(outboundPolicy(true).filter.denyIPAddressList).toEqual(expect.arrayContaining(['169.254.169.254', 'fd00:ec2::254']))
    expect(outboundPolicy(false)).toEqual({ protocols: ['https:'], filter: {} })
    expect(DELIVERY_TIMEOUT_MS).toBe(10_000)
  })
})

describe('webhook delivery in AWS mode and in local mode', () => {
  it('a URL resolving to a private address is refused in AWS mode (the log says why) and delivered in local mode', async () => {
    const { tableName, endpoint, doc } = await createTestTable('modes')
    const config = { tableName, region: 'us-east-1', dynamodbEndpoint: endpoint }
    const keys = new LocalKeyProvider(Buffer.alloc(32, 1))
    const store = new WebhookEventStore(doc, tableName)
    const logs = new LogCapture()
    const logger = createLogger({ level: 'debug' }, logs)
    const before = receiver.received.length

    const aws = buildWebhookDelivery({ config, keys, local: false, logger })
    const refused = event(`https://localhost:${port()}/aws`)
    await store.record(refused, new Date())
    await aws.dispatcher.processLink(refused.linkId)
    await aws.stop()
    const [stored] = await store.list(refused.linkId)
    expect(stored).toMatchObject({ state: 'pending', attempts: 1, lastError: 'address_refused', lastHttpStatus: null })
    expect(receiver.received.length).toBe(before)

    const local = buildWebhookDelivery({ config, keys, local: true, logger })
    const allowed = event(`http://localhost:${port()}/local-mode`)
    await store.record(allowed, new Date())
    await local.dispatcher.processLink(allowed.linkId)
    await local.stop()
    expect((await store.list(allowed.linkId))[0]).toMatchObject({ state: 'delivered', attempts: 1, lastHttpStatus: 200 })
    const [hook] = receiver.received.filter((h) => h.path === '/local-mode')
    const tenantSecret = await new WebhookSecretStore(doc, tableName, keys).current('acme')
    expect(new Webhook(tenantSecret).verify(hook.body, hook.headers)).toMatchObject({ type: 'link.awaiting_scan' })
    expect(logs.text).toContain('"error":"address_refused"')
    expect(logs.text).not.toContain('localhost')
  })
})

/** Polls `check` every 25 ms until it holds, failing after `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe('webhook delivery’s lifecycle', () => {
  it('stop() lets the attempt under way finish before closing connections: the event ends delivered', async () => {
    const slow = await startWebhookReceiver()
    slow.delayMs = 300
    let arrived = false
    slow.answer = () => ((arrived = true), 200)
    const { tableName, endpoint, doc } = await createTestTable('stop')
    const delivery = buildWebhookDelivery({ config: { tableName, region: 'us-east-1', dynamodbEndpoint: endpoint }, keys: new LocalKeyProvider(Buffer.alloc(32, 2)), local: true, logger: createLogger({ level: 'silent' }) })
    const store = new WebhookEventStore(doc, tableName)
    try {
      const e = event(`${slow.origin}/slow`)
      await store.record(e, new Date())
      delivery.dispatcher.serveSoon(e.linkId)
      await until(() => arrived, 5000, 'the request to arrive')
      await delivery.stop()
      expect((await store.list(e.linkId))[0]).toMatchObject({ state: 'delivered', attempts: 1, lastHttpStatus: 200 })
      expect(slow.received).toHaveLength(1)
    } finally {
      await delivery.stop()
      await slow.close()
    }
  })

  it('POST …/redeliver of an event failed by a 410 is sent at once by the local runner (the queue’s kick on the stream), not at the next retry sweep', async () => {
    const api = await startTestApi()
    const hooks = await startWebhookReceiver()
    let gone = true
    hooks.answer = () => (gone ? 410 : 200)
    // Retry sweeps an hour apart: only the stream's kick can bring the redelivery.
    const runner = await startLocalWebhooks({
      config: { tableName: api.tableName, region: 'us-east-1', dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT },
      keys: new LocalKeyProvider(Buffer.alloc(32, 3)),
      local: true,
      logger: api.logger,
      retryEveryMs: 3600_000,
      streamIdleMs: 50,
    })
    try {
      const key = await api.newTenantKey('redeliver')
      const created = await api.request('/v1/links', { method: 'POST', key, json: { webhookUrl: `${hooks.origin}/redeliver` } })
      expect(created.status).toBe(201)
      const { link } = (await created.json()) as { link: { id: string } }
      expect((await api.request(`/v1/links/${link.id}`, { method: 'DELETE', key })).status).toBe(200)
      const events = async () => ((await (await api.request(`/v1/links/${link.id}/events`, { key })).json()) as { events: { id: string; type: string; state: string; attempts: number; lastError: string | null }[] }).events
      const cancelled = async () => (await events()).find((e) => e.type === 'link.cancelled')
      await until(async () => (await cancelled())?.state === 'failed', 10_000, 'the cancel to fail with 410')
      expect(await cancelled()).toMatchObject({ state: 'failed', attempts: 1, lastError: 'gone' })

      gone = false
      const asked = Date.now()
      const res = await api.request(`/v1/links/${link.id}/events/${(await cancelled())!.id}/redeliver`, { method: 'POST', key })
      expect(res.status).toBe(202)
      await until(async () => (await cancelled())?.state === 'delivered', 5000, 'the redelivery')
      expect(Date.now() - asked).toBeLessThan(5000)
      expect(await cancelled()).toMatchObject({ state: 'delivered', attempts: 2, lastError: null })
      expect(hooks.forLink(link.id).map((h) => h.status)).toEqual([410, 200])
    } finally {
      await runner.stop()
      await hooks.close()
      await api.close()
    }
  })
})
