import { beforeAll, describe, expect, it } from 'vitest'
import { LINK_STATUSES, newLinkId, canTransition, type Link, type LinkStatus } from '@wa-link-broker/core/link'
import { LinkStore, StaleLinkError } from '@wa-link-broker/core/store'
import { createTestTable } from '../support/store.ts'

let store: LinkStore

beforeAll(async () => {
  const { doc, tableName } = await createTestTable('store')
  store = new LinkStore(doc, tableName)
})

function newLink(status: LinkStatus, overrides: Partial<Link> = {}): Link {
  const now = new Date()
  return {
    id: newLinkId(), tenantId: 't1', status, method: 'qr', phoneNumber: null, qr: null, pairingCode: null, account: null, error: null,
    metadata: {}, webhookUrl: null, createdAt: now.toISOString(), updatedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 300_000).toISOString(), version: 1, leaseToken: 0, heartbeatAt: null, clientTokenHashes: [],
    ...overrides,
  }
}

describe('LinkStore conditional writes', () => {
  const pairs = LINK_STATUSES.flatMap((from) => LINK_STATUSES.map((to) => [from, to] as const))

  it.each(pairs.filter(([from, to]) => canTransition(from, to)))('takes the allowed transition %s → %s', async (from, to) => {
    const link = newLink(from)
    await store.create(link)
    const updated = await store.update(link.id, { from: [from], to })
    expect(updated.status).toBe(to)
    expect(updated.version).toBe(2)
    expect((await store.get(link.id))!.status).toBe(to)
  })

  it.each(pairs.filter(([from, to]) => !canTransition(from, to)))('refuses %s → %s', async (from, to) => {
    const link = newLink(from)
    await store.create(link)
    await expect(store.update(link.id, { from: [from], to })).rejects.toThrow(/Illegal transition/)
    // Claiming the wrong current status is refused by DynamoDB itself, and nothing changes.
    const other = LINK_STATUSES.find((s) => s !== from && canTransition(s, to))
    if (other) {
      const refused = await store.update(link.id, { from: [other], to }).catch((e) => e)
      expect(refused).toBeInstanceOf(StaleLinkError)
      // The loser learns the link as it now is, as plain values.
      expect((refused as StaleLinkError).current).toMatchObject({ id: link.id, status: from, version: 1, leaseToken: 0, metadata: {} })
    }
    expect(await store.get(link.id)).toMatchObject({ status: from, version: 1 })
  })

  it('lets exactly one of two conflicting concurrent updates win', async () => {
    for (let round = 0; round < 10; round++) {
      const link = newLink('pairing')
      await store.create(link)
      const results = await Promise.allSettled([
        store.update(link.id, { from: ['pairing'], to: 'linked' }),
        store.update(link.id, { from: ['pairing'], to: 'cancelled' }),
      ])
      const winners = results.filter((r) => r.status === 'fulfilled')
      const losers = results.filter((r) => r.status === 'rejected')
      expect(winners).toHaveLength(1)
      expect(losers).toHaveLength(1)
      expect((losers[0] as PromiseRejectedResult).reason).toBeInstanceOf(StaleLinkError)
      const winner = (winners[0] as PromiseFulfilledResult<Link>).value
      expect((losers[0] as PromiseRejectedResult).reason.current).toMatchObject({ status: winner.status, version: 2 })
      const stored = await store.get(link.id)
      expect(stored!.status).toBe((winners[0] as PromiseFulfilledResult<Link>).value.status)
      expect(stored!.version).toBe(2)
    }
  })

  it('fences out a worker whose lease was taken over', async () => {
    const link = newLink('pending')
    await store.create(link)
    const first = await store.claim(link.id, ['pending'], 'starting')
    const second = await store.claim(link.id, ['starting'])
    expect(second.leaseToken).toBe(first.leaseToken + 1)
    await expect(store.update(link.id, { from: ['starting'], to: 'awaiting_scan', fence: first.leaseToken })).rejects.toBeInstanceOf(StaleLinkError)
    expect((await store.update(link.id, { from: ['starting'], to: 'awaiting_scan', fence: second.leaseToken })).status).toBe('awaiting_scan')
  })

  it('sets a TTL on finished links and removes it once linked', async () => {
    const { doc, tableName } = await createTestTable('ttl')
    const s = new LinkStore(doc, tableName)
    const { GetCommand } = await import('@aws-sdk/lib-dynamodb')
    const raw = async (id: string) => (await doc.send(new GetCommand({ TableName: tableName, Key: { pk: `LINK#${id}`, sk: 'LINK' } }))).Item!
    const a = newLink('pairing')
    await s.create(a)
    await expect(raw(a.id)).resolves.toHaveProperty('ttl')
    await s.update(a.id, { from: ['pairing'], to: 'linked' })
    expect(await raw(a.id)).not.toHaveProperty('ttl')
    const b = newLink('awaiting_scan')
    await s.create(b)
    await s.update(b.id, { from: ['awaiting_scan'], to: 'cancelled' })
    const ttl = (await raw(b.id)).ttl as number
    expect(ttl).toBeGreaterThan(Date.now() / 1000)
    expect(ttl).toBeLessThan(Date.now() / 1000 + 8 * 24 * 3600)
  })
})

describe('LinkStore.addClientTokenHash', () => {
  const KEEP = 10

  it('keeps the first hash and the latest KEEP − 1, in order', async () => {
    const link = newLink('pending', { clientTokenHashes: ['first'] })
    await store.create(link)
    for (let i = 0; i < 15; i++) await store.addClientTokenHash(link.id, `h${i}`, KEEP)
    expect((await store.get(link.id))!.clientTokenHashes).toEqual(['first', ...Array.from({ length: KEEP - 1 }, (_, i) => `h${i + 6}`)])
  })

  it('loses no hash and fails no caller when many add at once (no retry budget to run out of)', async () => {
    const link = newLink('pending', { clientTokenHashes: ['first'] })
    await store.create(link)
    const added = Array.from({ length: KEEP - 1 }, (_, i) => `c${i}`)
    // Every round: KEEP − 1 concurrent additions, each must succeed and all must be kept.
    for (let round = 0; round < 3; round++) {
      const hashes = added.map((h) => `${h}-${round}`)
      await Promise.all(hashes.map((h) => store.addClientTokenHash(link.id, h, KEEP)))
      const stored = (await store.get(link.id))!.clientTokenHashes
      expect(stored[0]).toBe('first')
      expect(stored.slice(1).sort()).toEqual(hashes.sort())
    }
    // More at once than fit: all succeed, the first stays, the list ends at exactly KEEP.
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.addClientTokenHash(link.id, `burst${i}`, KEEP)))
    const stored = (await store.get(link.id))!.clientTokenHashes
    expect(stored).toHaveLength(KEEP)
    expect(stored[0]).toBe('first')
    expect(stored.slice(1).every((h) => h.startsWith('burst'))).toBe(true)
  })

  it('is NotFound for a link that does not exist, and creates nothing', async () => {
    const id = newLinkId()
    await expect(store.addClientTokenHash(id, 'h', KEEP)).rejects.toMatchObject({ name: 'NotFoundError' })
    expect(await store.get(id)).toBeNull()
  })
})
