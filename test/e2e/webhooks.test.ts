import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Webhook } from 'standardwebhooks'
import { ApiKeyStore } from '@wa-link-broker/core'
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
  e2e = await startE2E({ qrTimeoutMs: 1500, webhooks: { schedule: TEST_SCHEDULE, retryEveryMs: 100 } })
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
})
