import { randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb'
import { LocalKeyProvider } from '@wa-link-broker/core/crypto'
import { RateLimitedError } from '@wa-link-broker/core/errors'
import { newLinkId, type Link } from '@wa-link-broker/core/link'
import { MAX_SIGNING_SECRETS, ROTATION_OVERLAP_MS, TOO_MANY_ROTATIONS, WebhookSecretStore, type StoredEvent } from '@wa-link-broker/core/webhooks'
import { createWebhookSender } from '@wa-link-broker/functions'
import { Webhook } from 'standardwebhooks'
import { createTestTable } from '../support/store.ts'
import { startWebhookReceiver } from '../support/webhook-receiver.ts'

let table: Awaited<ReturnType<typeof createTestTable>>
const keys = new LocalKeyProvider(randomBytes(32))

beforeAll(async () => {
  table = await createTestTable('whsec')
})

/** The tenant's stored item, as it is in the table. */
async function item(tenantId: string): Promise<Record<string, unknown>> {
  const res = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: { pk: `WHSECRET#${tenantId}`, sk: 'WHSECRET' } }))
  return res.Item!
}

/** A pending `link.awaiting_scan` event of one of the tenant's links. */
function storedEvent(tenantId: string, url: string): StoredEvent {
  const at = new Date().toISOString()
  const link: Link = {
    id: newLinkId(), tenantId, status: 'awaiting_scan', method: 'qr', phoneNumber: null, qr: null, pairingCode: null, account: null, error: null,
    metadata: {}, webhookUrl: url, createdAt: at, updatedAt: at, expiresAt: new Date(Date.now() + 300_000).toISOString(), version: 3, leaseToken: 1,
    heartbeatAt: null, clientTokenHashes: [],
  }
  return {
    id: `evt_${'0'.repeat(26)}`, type: 'link.awaiting_scan', linkId: link.id, tenantId, version: 3, occurredAt: at, url, link,
    state: 'pending', attempts: 0, lastHttpStatus: null, lastError: null, lastAttemptAt: null, nextAttemptAt: null, deliveredAt: null,
  }
}

describe('webhook signing secrets', () => {
  it('one secret per tenant, created on first read (racing first reads agree), stored only sealed', async () => {
    const store = new WebhookSecretStore(table.doc, table.tableName, keys)
    const [a, b, c] = await Promise.all([store.current('t1'), store.current('t1'), store.signingSecrets('t1')])
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(b).toBe(a)
    expect(c).toEqual([a])
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32)
    expect(await store.current('t2')).not.toBe(a)
    const dump = JSON.stringify((await table.doc.send(new ScanCommand({ TableName: table.tableName }))).Items)
    expect(dump).not.toContain(a.slice('whsec_'.length, 20))
  })

  it('a rotation signs with both secrets for 24 h, then with the new one only', async () => {
    let now = Date.now()
    const store = new WebhookSecretStore(table.doc, table.tableName, keys, () => new Date(now))
    const old = await store.current('t3')
    const fresh = await store.rotate('t3')
    expect(fresh).not.toBe(old)
    expect(await store.current('t3')).toBe(fresh)
    expect(await store.signingSecrets('t3')).toEqual([fresh, old])
    now += ROTATION_OVERLAP_MS - 1000
    expect(await store.signingSecrets('t3')).toEqual([fresh, old])
    now += 2000
    expect(await store.signingSecrets('t3')).toEqual([fresh])
    // Two rotations racing both land (version-guarded): the one they replaced and the first of them keep signing.
    const [x, y] = await Promise.all([store.rotate('t3'), store.rotate('t3')])
    const live = await store.signingSecrets('t3')
    expect(live).toHaveLength(3)
    expect(new Set(live)).toEqual(new Set([x, y, fresh]))
    expect(await store.current('t3')).toBe(live[0])
  })

  it('rotations within 24 h keep every replaced secret signing until its own 24 h are up, then prune it', async () => {
    let now = Date.now()
    const store = new WebhookSecretStore(table.doc, table.tableName, keys, () => new Date(now))
    const s0 = await store.current('t6')
    const s1 = await store.rotate('t6')
    now += 3600_000
    const s2 = await store.rotate('t6')
    now += 3600_000
    const s3 = await store.rotate('t6')
    // Three rotations within 24 h: all four sign, newest first.
    expect(await store.signingSecrets('t6')).toEqual([s3, s2, s1, s0])
    // s0 was replaced 2 h ago: 22 h on, it has retired; s1 and s2 have not.
    now += ROTATION_OVERLAP_MS - 2 * 3600_000 + 1000
    expect(await store.signingSecrets('t6')).toEqual([s3, s2, s1])
    // Once every overlap is over, the current one only.
    now += 2 * 3600_000
    expect(await store.signingSecrets('t6')).toEqual([s3])
    // The next rotation prunes the retired ones from the item.
    const s4 = await store.rotate('t6')
    expect(await store.signingSecrets('t6')).toEqual([s4, s3])
    expect(((await item('t6')).retiring as unknown[]).length).toBe(1)
  })

  it('an item stored with only `previous` (before `retiring`) still signs with it, and its next rotation keeps it', async () => {
    let now = Date.now()
    const store = new WebhookSecretStore(table.doc, table.tableName, keys, () => new Date(now))
    const old = await store.current('t7')
    const fresh = await store.rotate('t7')
    // Rewrite the item in the shape an older build wrote: `previous` only.
    const { retiring, ...rest } = await item('t7')
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { ...rest, previous: (retiring as unknown[])[0] } }))
    expect(await store.signingSecrets('t7')).toEqual([fresh, old])
    now += 3600_000
    const newest = await store.rotate('t7')
    expect(await store.signingSecrets('t7')).toEqual([newest, fresh, old])
    const migrated = await item('t7')
    expect(migrated.previous).toBeUndefined()
    expect(migrated.retiring).toHaveLength(2)
  })

  it(`at most ${MAX_SIGNING_SECRETS} secrets sign at once: a rotation beyond is refused until the oldest retires`, async () => {
    let now = Date.now()
    const store = new WebhookSecretStore(table.doc, table.tableName, keys, () => new Date(now))
    await store.current('t8')
    const firstRotationAt = now
    for (let i = 1; i < MAX_SIGNING_SECRETS; i++) {
      await store.rotate('t8')
      now += 60_000
    }
    const before = await item('t8')
    expect(await store.signingSecrets('t8')).toHaveLength(MAX_SIGNING_SECRETS)
    const refused = await store.rotate('t8').catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(RateLimitedError)
    expect(refused).toMatchObject({ code: TOO_MANY_ROTATIONS, retryAfterSeconds: Math.ceil((firstRotationAt + ROTATION_OVERLAP_MS - now) / 1000) })
    expect(await item('t8')).toEqual(before)
    // Once the oldest has retired, one more rotation is allowed.
    now = firstRotationAt + ROTATION_OVERLAP_MS + 1
    await store.rotate('t8')
    expect(await store.signingSecrets('t8')).toHaveLength(MAX_SIGNING_SECRETS)
  })

  it('a delivery signed during the overlap verifies with the oldest secret still signing (standardwebhooks)', async () => {
    let now = Date.now()
    const store = new WebhookSecretStore(table.doc, table.tableName, keys, () => new Date(now))
    const oldest = await store.current('t9')
    for (let i = 0; i < 3; i++) await store.rotate('t9')
    now += ROTATION_OVERLAP_MS - 60_000
    const receiver = await startWebhookReceiver()
    // The sender stamps deliveries with the real clock: standardwebhooks checks the timestamp against it.
    const sender = createWebhookSender({ local: true, signingSecrets: (tenantId) => store.signingSecrets(tenantId) })
    try {
      const e = storedEvent('t9', `${receiver.origin}/hook`)
      expect(await sender.deliver(e)).toEqual({ httpStatus: 200 })
      const [hook] = receiver.received
      expect(hook.headers['webhook-signature'].split(' ')).toHaveLength(4)
      expect(new Webhook(oldest).verify(hook.body, hook.headers)).toMatchObject({ type: 'link.awaiting_scan' })
      // Past its 24 h, the oldest no longer signs.
      now += 120_000
      expect(await sender.deliver(e)).toEqual({ httpStatus: 200 })
      expect(() => new Webhook(oldest).verify(receiver.received[1].body, receiver.received[1].headers)).toThrow()
      expect(new Webhook(await store.current('t9')).verify(receiver.received[1].body, receiver.received[1].headers)).toBeTruthy()
    } finally {
      sender.close()
      await receiver.close()
    }
  })

  it('a sealed secret copied to another tenant does not open there', async () => {
    const store = new WebhookSecretStore(table.doc, table.tableName, keys)
    await store.current('t4')
    const { Item } = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: { pk: 'WHSECRET#t4', sk: 'WHSECRET' } }))
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { ...Item, pk: 'WHSECRET#t5' } }))
    await expect(store.current('t5')).rejects.toThrow()
  })
})
