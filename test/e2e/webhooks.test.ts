import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Webhook } from 'standardwebhooks'
import { ApiKeyStore } from '@wa-link-broker/core/auth'
import { startE2E, waitUntil, type E2E } from '../support/e2e.ts'
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../support/webhook-receiver.ts'

/** A retry schedule of seconds instead of a day, so a test sees every step; its real shape is a unit test. */
const TEST_SCHEDULE = [0, 300, 300, 300, 300, 300, 300, 300]

interface EventView {
  id: string
  type: string
  timestamp: string
  state: 'pending' | 'delivered' | 'failed'
  attempts: number
  lastHttpStatus: number | null
  lastError: string | null
  nextAttemptAt: string | null
  deliveredAt: string | null
}

let e2e: E2E
let receiver: WebhookReceiver
/** Every secret a test saw (webhook secrets, QR values and codes from bodies, URL tokens): none may reach a log. */
const secrets = new Set<string>()

beforeAll(async () => {
  receiver = await startWebhookReceiver()
  e2e = await startE2E({ qrTimeoutMs: 1500, webhooks: { schedule: TEST_SCHEDULE, retryEveryMs: 250 } })
})
afterAll(async () => {
  await e2e?.stop()
  await receiver?.close()
})

/** A tenant of its own, so secrets and rotations of one test do not touch another's. */
async function newTenant(name: string) {
  const key = (await new ApiKeyStore(e2e.doc, e2e.tableName).create(`${name}-${Math.random().toString(36).slice(2, 8)}`)).key
  const res = await e2e.request('/v1/webhook-secret', { key })
  expect(res.status).toBe(200)
  const { secret } = (await res.json()) as { secret: string }
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
  secrets.add(secret)
  return { key, secret }
}

async function events(id: string, key?: string): Promise<EventView[]> {
  const res = await e2e.request(`/v1/links/${id}/events`, { key })
  expect(res.status).toBe(200)
  return ((await res.json()) as { events: EventView[] }).events
}

function rememberSecrets(hooks: ReceivedWebhook[]) {
  for (const hook of hooks) {
    if (hook.json.data.link.qr) secrets.add(hook.json.data.link.qr.value)
    if (hook.json.data.link.pairingCode) secrets.add(hook.json.data.link.pairingCode.code)
  }
}

/** What a receiver does: verify the Standard Webhooks signature with the secret it holds. */
function verify(hook: ReceivedWebhook, secret: string) {
  return new Webhook(secret).verify(hook.body, hook.headers)
}

describe('webhooks, end to end', () => {
  it('a scanned QR link posts awaiting_scan, qr_updated, pairing, linked, in order, signed with the tenant secret', async () => {
    const { key, secret } = await newTenant('scan')
    const token = `hook-token-${Math.random().toString(36).slice(2)}`
    secrets.add(token)
    const created = await e2e.request('/v1/links', { key, method: 'POST', json: { webhookUrl: `${receiver.origin}/hooks/scan?token=${token}` } })
    expect(created.status).toBe(201)
    const { link } = (await created.json()) as { link: { id: string } }
    const id = link.id

    // Wait for a rotation (WA_QR_TIMEOUT_MS is 1.5 s) to be delivered, then scan the QR on screen.
    await receiver.waitFor(() => receiver.forLink(id).some((h) => h.json.type === 'link.qr_updated'), 15_000, 'a qr_updated delivery')
    const current = await e2e.read(id, key)
    await e2e.sim.scan(current.qr!.value, { name: 'Hook' })
    await receiver.waitFor(() => receiver.forLink(id).some((h) => h.json.type === 'link.linked'), 15_000, 'link.linked')

    const hooks = receiver.forLink(id)
    rememberSecrets(hooks)
    const types = hooks.map((h) => h.json.type)
    expect(types[0]).toBe('link.awaiting_scan')
    expect(types.slice(-2)).toEqual(['link.pairing', 'link.linked'])
    expect(types.slice(1, -2).length).toBeGreaterThanOrEqual(1)
    expect(new Set(types.slice(1, -2))).toEqual(new Set(['link.qr_updated']))

    for (const hook of hooks) {
      expect(verify(hook, secret)).toEqual(hook.json)
      expect(hook.headers['content-type']).toBe('application/json')
      expect(hook.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
      expect(Math.abs(Number(hook.headers['webhook-timestamp']) * 1000 - hook.at)).toBeLessThan(5000)
      expect(hook.json.timestamp).toBe(hook.json.data.link.updatedAt)
      expect(hook.status).toBe(200)
    }
    // Any other secret does not verify it.
    expect(() => verify(hooks[0], `whsec_${randomBytes(32).toString('base64')}`)).toThrow()
    // Each body is the link as GET showed it right after that change.
    expect(hooks[0].json.data.link).toMatchObject({ id, status: 'awaiting_scan', qr: { sequence: 1, imageUrl: `/v1/links/${id}/qr.svg` } })
    const sequences = hooks.filter((h) => h.json.type === 'link.qr_updated').map((h) => h.json.data.link.qr!.sequence)
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b))
    expect(hooks.at(-1)!.json.data.link).toMatchObject({ status: 'linked', qr: null, pollAfterMs: null })
    expect(hooks.at(-1)!.json.data.link).toEqual(await e2e.read(id, key))
    // Newer changes carry a later updatedAt, so a receiver can drop a stale one.
    const updated = hooks.map((h) => Date.parse(h.json.data.link.updatedAt))
    expect(updated).toEqual([...updated].sort((a, b) => a - b))

    // The delivery log says the same, oldest first, under the ids the receiver saw.
    const log = await events(id, key)
    expect(log.map((e) => e.id)).toEqual(hooks.map((h) => h.id))
    expect(log.map((e) => e.type)).toEqual(types)
    for (const event of log) expect(event).toMatchObject({ state: 'delivered', attempts: 1, lastHttpStatus: 200, lastError: null, nextAttemptAt: null })
  })

  it('a receiver that answers 500 for a while gets every event in the end, in order, the attempts in the log', async () => {
    const { key, secret } = await newTenant('flaky')
    const path = `/hooks/flaky-${Math.random().toString(36).slice(2)}`
    let failuresLeft = 4
    const answer = receiver.answer
    receiver.answer = (hook) => (hook.path === path && failuresLeft-- > 0 ? 500 : answer(hook))
    const { id } = await e2eLink(key, `${receiver.origin}${path}`)
    try {
      // Rotations keep coming while the first event is retried (every 300 ms here).
      await receiver.waitFor(() => receiver.forLink(id).filter((h) => h.status === 200).length >= 3, 20_000, 'three delivered events')
      expect((await e2e.request(`/v1/links/${id}`, { key, method: 'DELETE' })).status).toBe(200)
      await receiver.waitFor(() => receiver.forLink(id).some((h) => h.json.type === 'link.cancelled' && h.status === 200), 20_000, 'link.cancelled')
    } finally {
      receiver.answer = answer
    }
    const hooks = receiver.forLink(id)
    rememberSecrets(hooks)
    const log = await events(id, key)
    const order = log.map((e) => e.id)
    // Never ahead of order: each request is for the first event not yet delivered.
    const index = hooks.map((h) => order.indexOf(h.id))
    expect(index).toEqual([...index].sort((a, b) => a - b))
    expect(hooks.slice(0, 5).map((h) => [h.id, h.status])).toEqual([...Array(4).fill([order[0], 500]), [order[0], 200]])
    expect([...new Set(hooks.filter((h) => h.status === 200).map((h) => h.id))]).toEqual(order)
    for (const hook of hooks) expect(verify(hook, secret)).toEqual(hook.json)
    // Every retry is the same event: same id, same body; only the timestamp and signature are new.
    expect(new Set(hooks.filter((h) => h.id === order[0]).map((h) => h.body)).size).toBe(1)
    expect(log[0]).toMatchObject({ type: 'link.awaiting_scan', state: 'delivered', attempts: 5, lastHttpStatus: 200, lastError: null })
    expect(log.slice(1).every((e) => e.state === 'delivered' && e.attempts === 1)).toBe(true)
    expect(log.at(-1)!.type).toBe('link.cancelled')
  })

  it('the attempts of a failing receiver show in the log while they go on', async () => {
    const { key } = await newTenant('down')
    const path = `/hooks/down-${Math.random().toString(36).slice(2)}`
    const answer = receiver.answer
    receiver.answer = (hook) => (hook.path === path ? 503 : answer(hook))
    try {
      const { id } = await e2eLink(key, `${receiver.origin}${path}`)
      await waitUntil(async () => ((await events(id, key))[0]?.attempts ?? 0) >= 2, 10_000, 'two attempts')
      const [head, ...rest] = await events(id, key)
      expect(head).toMatchObject({ type: 'link.awaiting_scan', state: 'pending', lastHttpStatus: 503, lastError: 'http_error' })
      expect(Date.parse(head.nextAttemptAt!)).toBeGreaterThan(Date.parse(head.timestamp))
      // The events after it wait their turn: not one attempt yet.
      for (const event of rest) expect(event).toMatchObject({ state: 'pending', attempts: 0, lastHttpStatus: null })
      await e2e.request(`/v1/links/${id}`, { key, method: 'DELETE' })
    } finally {
      receiver.answer = answer
    }
  })

  it('410 Gone stops the link’s deliveries; redeliver sends again', async () => {
    const { key, secret } = await newTenant('gone')
    const path = `/hooks/gone-${Math.random().toString(36).slice(2)}`
    let gone = true
    const answer = receiver.answer
    receiver.answer = (hook) => (hook.path === path && gone ? 410 : answer(hook))
    try {
      const { id } = await e2eLink(key, `${receiver.origin}${path}`)
      await receiver.waitFor(() => receiver.forLink(id).length >= 1, 10_000, 'the first delivery')
      // Rotations go on and the link is cancelled: events are recorded, not sent.
      await waitUntil(async () => (await events(id, key)).length >= 3, 10_000, 'more events')
      expect((await e2e.request(`/v1/links/${id}`, { key, method: 'DELETE' })).status).toBe(200)
      await waitUntil(async () => (await events(id, key)).some((e) => e.type === 'link.cancelled' && e.state === 'failed'), 10_000, 'the cancel recorded as not sent')
      await new Promise((r) => setTimeout(r, 500))
      expect(receiver.forLink(id)).toHaveLength(1)
      const log = await events(id, key)
      expect(log[0]).toMatchObject({ state: 'failed', attempts: 1, lastHttpStatus: 410, lastError: 'gone' })
      for (const event of log.slice(1)) expect(event).toMatchObject({ state: 'failed', attempts: 0, lastError: 'gone' })

      // The receiver is back; redelivering the cancel sends it now (and resumes the link's deliveries).
      gone = false
      const cancelled = log.at(-1)!
      const res = await e2e.request(`/v1/links/${id}/events/${cancelled.id}/redeliver`, { key, method: 'POST' })
      expect(res.status).toBe(202)
      expect(await res.json()).toMatchObject({ id: cancelled.id, state: 'pending' })
      const [hook] = (await receiver.waitFor(() => receiver.forLink(id).some((h) => h.id === cancelled.id), 10_000, 'the redelivery')).filter((h) => h.id === cancelled.id)
      expect(verify(hook, secret)).toMatchObject({ type: 'link.cancelled', data: { link: { id, status: 'cancelled' } } })
      await waitUntil(async () => (await events(id, key)).at(-1)!.state === 'delivered', 5000, 'the log to say delivered')
      expect((await events(id, key)).at(-1)).toMatchObject({ state: 'delivered', attempts: 1, lastHttpStatus: 200 })

      // A delivered event redelivered goes out again, under the same id.
      expect((await e2e.request(`/v1/links/${id}/events/${cancelled.id}/redeliver`, { key, method: 'POST' })).status).toBe(202)
      await receiver.waitFor(() => receiver.forLink(id).filter((h) => h.id === cancelled.id).length === 2, 10_000, 'the second redelivery')
      rememberSecrets(receiver.forLink(id))
    } finally {
      receiver.answer = answer
    }
  })

  it('another tenant can neither read nor redeliver a link’s events; a client token cannot either', async () => {
    const owner = await newTenant('owner')
    const other = await newTenant('other')
    const created = await e2e.request('/v1/links', { key: owner.key, method: 'POST', json: { webhookUrl: `${receiver.origin}/hooks/owner` } })
    const { link, clientToken } = (await created.json()) as { link: { id: string }; clientToken: string }
    await waitUntil(async () => (await events(link.id, owner.key))[0]?.state === 'delivered', 10_000, 'a delivered event')
    const [event] = await events(link.id, owner.key)
    const expectStatus = async (path: string, init: { key: string; method?: string }, status: number) => expect((await e2e.request(path, init)).status).toBe(status)
    await expectStatus(`/v1/links/${link.id}/events`, { key: other.key }, 404)
    await expectStatus(`/v1/links/${link.id}/events/${event.id}/redeliver`, { key: other.key, method: 'POST' }, 404)
    await expectStatus(`/v1/links/${link.id}/events`, { key: clientToken }, 401)
    await expectStatus(`/v1/links/${link.id}/events/${event.id}/redeliver`, { key: clientToken, method: 'POST' }, 401)
    await expectStatus(`/v1/links/${link.id}/events/evt_00000000000000000000000000/redeliver`, { key: owner.key, method: 'POST' }, 404)
    await expectStatus(`/v1/links/${link.id}/events/not-an-event/redeliver`, { key: owner.key, method: 'POST' }, 404)
    await expectStatus(`/v1/links/lnk_00000000000000000000000000/events`, { key: owner.key }, 404)
    // The other tenant's redelivery changed nothing.
    expect((await events(link.id, owner.key))[0].attempts).toBe(event.attempts)
    await e2e.request(`/v1/links/${link.id}`, { key: owner.key, method: 'DELETE' })
  })

  it('rotation: during the overlap a receiver holding only the old secret still verifies, and so does one holding the new', async () => {
    const { key, secret: old } = await newTenant('rotate')
    const res = await e2e.request('/v1/webhook-secret/rotate', { key, method: 'POST' })
    expect(res.status).toBe(200)
    const { secret: fresh } = (await res.json()) as { secret: string }
    secrets.add(fresh)
    expect(fresh).not.toBe(old)
    expect(((await (await e2e.request('/v1/webhook-secret', { key })).json()) as { secret: string }).secret).toBe(fresh)

    const { id } = await e2eLink(key, `${receiver.origin}/hooks/rotate`)
    const [hook] = await receiver.waitFor(() => receiver.forLink(id).length >= 1, 10_000, 'a delivery').then(() => receiver.forLink(id))
    expect(hook.headers['webhook-signature'].split(' ')).toHaveLength(2)
    expect(verify(hook, old)).toEqual(hook.json)
    expect(verify(hook, fresh)).toEqual(hook.json)
    rememberSecrets(receiver.forLink(id))
    await e2e.request(`/v1/links/${id}`, { key, method: 'DELETE' })
  })

  it('no webhook secret, QR value, pairing code or webhook URL reached the logs', () => {
    expect(secrets.size).toBeGreaterThan(8)
    const text = e2e.logs.text
    expect(text).toContain('webhook attempt')
    expect(text).toContain('webhook event recorded')
    for (const secret of secrets) expect(text).not.toContain(secret)
    expect(text).not.toContain('/hooks/')
    expect(text).not.toContain('whsec_')
  })
})

/** Starts a QR link (rotating QR every 1.5 s) that posts to `url`. */
async function e2eLink(key: string, url: string) {
  const res = await e2e.request('/v1/links', { key, method: 'POST', json: { webhookUrl: url } })
  expect(res.status).toBe(201)
  return ((await res.json()) as { link: { id: string } }).link
}
