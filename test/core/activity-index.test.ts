import { randomBytes } from 'node:crypto'
import { QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { beforeAll, describe, expect, it } from 'vitest'
import { newLinkId, type Link, type LinkStatus } from '@wa-link-broker/core/link'
import { activityShard, LinkStore, StaleLinkError, tableDefinition as T } from '@wa-link-broker/core/store'
import { sweepStaleLinks } from '@wa-link-broker/core/sweeper'
import { createTestTable } from '../support/store.ts'

/** Every DynamoDB call's consumed capacity, per table and index, as DynamoDB Local reports it. */
function recordCapacity(doc: DynamoDBDocumentClient) {
  const consumed: { command: string; table: number; indexes: Record<string, number> }[] = []
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      ;(args.input as Record<string, unknown>).ReturnConsumedCapacity = 'INDEXES'
      const out = await next(args)
      const cc = (out.output as { ConsumedCapacity?: { Table?: { CapacityUnits?: number }; GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }> } }).ConsumedCapacity
      if (cc) consumed.push({ command: context.commandName!, table: cc.Table?.CapacityUnits ?? 0, indexes: Object.fromEntries(Object.entries(cc.GlobalSecondaryIndexes ?? {}).map(([k, v]) => [k, v.CapacityUnits ?? 0])) })
      return out
    },
    { step: 'initialize', name: 'recordCapacity' },
  )
  return consumed
}

let doc: DynamoDBDocumentClient
let tableName: string
let store: LinkStore
let consumed: ReturnType<typeof recordCapacity>

beforeAll(async () => {
  ;({ doc, tableName } = await createTestTable('activity'))
  store = new LinkStore(doc, tableName)
  consumed = recordCapacity(doc)
})

const ago = (ms: number) => new Date(Date.now() - ms).toISOString()

function newLink(status: LinkStatus, overrides: Partial<Link> = {}): Link {
  const now = new Date().toISOString()
  return {
    id: newLinkId(), tenantId: 'acme', status, method: 'qr', phoneNumber: null, qr: null, pairingCode: null, account: null, error: null,
    metadata: { n: 1 }, webhookUrl: null, createdAt: now, updatedAt: now, expiresAt: new Date(Date.now() + 300_000).toISOString(),
    version: 1, leaseToken: 0, heartbeatAt: null, clientTokenHashes: [],
    ...overrides,
  }
}

/** A link id that lands in the given shard (ids are random; draw until one fits). */
function idInShard(shard: number): string {
  for (;;) {
    const id = newLinkId()
    if (activityShard(id) === shard) return id
  }
}

async function collect(gen: AsyncGenerator<Link>): Promise<string[]> {
  const ids: string[] = []
  for await (const link of gen) ids.push(link.id)
  return ids.sort()
}

describe('the activity index is write-sharded', () => {
  it('spreads link ids evenly over every shard', () => {
    const shards = T.activityIndex.shards
    const counts = new Array(shards).fill(0)
    const n = shards * 200
    for (let i = 0; i < n; i++) counts[activityShard(`lnk_${randomBytes(16).toString('base64url')}`)]++
    // 200 expected per shard; a binomial's 5-sigma band is about ±70.
    expect(Math.min(...counts)).toBeGreaterThan(130)
    expect(Math.max(...counts)).toBeLessThan(270)
  })

  it('stores links in progress under ACTIVE#<shard>, and removes them from the index when they end', async () => {
    const links = Array.from({ length: 32 }, () => newLink('pending'))
    for (const link of links) await store.create(link)
    const res = await doc.send(new ScanCommand({ TableName: tableName, IndexName: T.activityIndex.name }))
    const ours = (res.Items ?? []).filter((item) => links.some((l) => item[T.partitionKey] === `LINK#${l.id}`))
    expect(ours).toHaveLength(32)
    for (const item of ours) {
      const id = String(item[T.partitionKey]).slice(5)
      expect(item[T.activityIndex.partitionKey]).toBe(`ACTIVE#${activityShard(id)}`)
      expect(item[T.activityIndex.sortKey]).toMatch(/^P#\d{4}-/)
      // KEYS_ONLY: the sweeper reads the link itself.
      expect(Object.keys(item).sort()).toEqual([T.activityIndex.partitionKey, T.activityIndex.sortKey, T.partitionKey, T.sortKey].sort())
    }
    expect(new Set(ours.map((i) => i[T.activityIndex.partitionKey])).size).toBeGreaterThan(8)
    await store.update(links[0].id, { from: ['pending'], to: 'failed' })
    const after = await doc.send(new QueryCommand({
      TableName: tableName, IndexName: T.activityIndex.name, KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': T.activityIndex.partitionKey }, ExpressionAttributeValues: { ':p': `ACTIVE#${activityShard(links[0].id)}` },
    }))
    expect((after.Items ?? []).map((i) => i[T.partitionKey])).not.toContain(`LINK#${links[0].id}`)
  })
})

describe('quietSince / unclaimedSince read every shard', () => {
  it('return exactly the quiet claimed links and the old unclaimed ones, whatever their shard', async () => {
    const { doc: d, tableName: t } = await createTestTable('activity-q')
    const s = new LinkStore(d, t)
    const calls = recordCapacity(d)
    const shards = [0, 3, 7, 11, 15].filter((n) => n < T.activityIndex.shards)
    const quiet: string[] = []
    const unclaimed: string[] = []
    for (const shard of shards) {
      const oldClaimed = newLink('awaiting_scan', { id: idInShard(shard), createdAt: ago(600_000), heartbeatAt: ago(120_000), leaseToken: 1 })
      const freshClaimed = newLink('pairing', { id: idInShard(shard), createdAt: ago(600_000), heartbeatAt: ago(1_000), leaseToken: 1 })
      const oldPending = newLink('pending', { id: idInShard(shard), createdAt: ago(300_000) })
      const newPending = newLink('pending', { id: idInShard(shard), createdAt: ago(1_000) })
      const finished = newLink('failed', { id: idInShard(shard), createdAt: ago(600_000), heartbeatAt: ago(600_000) })
      for (const l of [oldClaimed, freshClaimed, oldPending, newPending, finished]) await s.create(l)
      quiet.push(oldClaimed.id)
      unclaimed.push(oldPending.id)
    }
    const before = new Date(Date.now() - 60_000)
    const sent = calls.length
    expect(await collect(s.quietSince(before))).toEqual(quiet.sort())
    // One query per shard, whether or not it holds links; then one consistent read per candidate.
    expect(calls.slice(sent).filter((c) => c.command === 'QueryCommand')).toHaveLength(T.activityIndex.shards)
    expect(calls.slice(sent).filter((c) => c.command === 'GetItemCommand')).toHaveLength(quiet.length)
    expect(await collect(s.unclaimedSince(before))).toEqual(unclaimed.sort())
  })

  it('a claim moves a link from unclaimed to claimed; a heartbeat makes it fresh again', async () => {
    const { doc: d, tableName: t } = await createTestTable('activity-c')
    const s = new LinkStore(d, t)
    const link = newLink('pending', { createdAt: ago(300_000) })
    await s.create(link)
    const before = () => new Date(Date.now() + 1_000)
    expect(await collect(s.unclaimedSince(before()))).toEqual([link.id])
    const claimed = await s.claim(link.id, ['pending'], 'starting')
    expect(await collect(s.unclaimedSince(before()))).toEqual([])
    expect(await collect(s.quietSince(before()))).toEqual([link.id])
    await s.heartbeat(link.id, { fence: claimed.leaseToken })
    expect(await collect(s.quietSince(new Date(Date.now() - 10_000)))).toEqual([])
  })
})

describe('LinkStore.heartbeat', () => {
  it('is not a visible change: updatedAt and version stay, and only the activity index is written', async () => {
    const link = newLink('pending')
    await store.create(link)
    const claimed = await store.claim(link.id, ['pending'], 'starting')
    const withQr = await store.update(link.id, { from: ['starting'], to: 'awaiting_scan', fence: claimed.leaseToken, patch: { qr: { value: 'q', sequence: 1, expiresAt: ago(-60_000) } } })
    const qrWrite = consumed.at(-1)!
    expect(qrWrite.command).toBe('UpdateItemCommand')
    expect(qrWrite.indexes).toHaveProperty(T.tenantIndex.name)

    await new Promise((r) => setTimeout(r, 5))
    const beaten = await store.heartbeat(link.id, { fence: claimed.leaseToken })
    const hbWrite = consumed.at(-1)!
    expect(hbWrite.command).toBe('UpdateItemCommand')
    // DynamoDB Local reports what the write cost per index: the tenant index is untouched.
    expect(hbWrite.indexes).toEqual({ [T.activityIndex.name]: 2 })
    expect(beaten.heartbeatAt! > withQr.heartbeatAt!).toBe(true)
    expect(beaten).toMatchObject({ version: withQr.version, updatedAt: withQr.updatedAt, status: 'awaiting_scan', qr: withQr.qr })
    expect(await store.get(link.id)).toEqual(beaten)
  })

  it('costs the item’s size on the table (2 WRU once it holds a real QR) and 2 on the activity index: the figures docs/deploy.md uses', async () => {
    // A link as a deployed worker holds it while waiting for a scan: metadata, a webhook and a
    // redirect URL, one client token, its task ARN and worker id, and a QR of WhatsApp's length.
    const link = newLink('pending', {
      metadata: { orderId: 'ord_12345', userId: 'usr_67890' }, webhookUrl: 'https://example.com/hooks/whatsapp', redirectUrl: 'https://example.com/done',
      clientTokenHashes: [randomBytes(32).toString('hex')],
    })
    await store.create(link)
    const claimed = await store.claim(link.id, ['pending'], 'starting', { workerId: randomBytes(16).toString('hex') })
    await store.recordTask(link.id, `arn:aws:ecs:us-east-1:111122223333:task/wa-link-broker-prod-ClusterCluster-abcdefgh/${randomBytes(16).toString('hex')}`)
    await store.heartbeat(link.id, { fence: claimed.leaseToken })
    expect(consumed.at(-1)).toMatchObject({ table: 1, indexes: { [T.activityIndex.name]: 2 } })
    const key = () => randomBytes(32).toString('base64')
    const qr = `2@${randomBytes(66).toString('base64')},${key()},${key()},${key()}` // ref, noise key, identity key, adv secret: 225 characters
    await store.update(link.id, { from: ['starting'], to: 'awaiting_scan', fence: claimed.leaseToken, patch: { qr: { value: qr, sequence: 1, expiresAt: ago(-60_000) } } })
    await store.heartbeat(link.id, { fence: claimed.leaseToken })
    expect(consumed.at(-1)).toEqual({ command: 'UpdateItemCommand', table: 2, indexes: { [T.activityIndex.name]: 2 } })
  })

  it('is refused once the lease moved on or the link ended', async () => {
    const link = newLink('pending')
    await store.create(link)
    const first = await store.claim(link.id, ['pending'], 'starting')
    const second = await store.claim(link.id, ['starting'])
    await expect(store.heartbeat(link.id, { fence: first.leaseToken })).rejects.toBeInstanceOf(StaleLinkError)
    await store.heartbeat(link.id, { fence: second.leaseToken })
    await store.update(link.id, { from: ['starting'], to: 'cancelled' })
    const refused = await store.heartbeat(link.id, { fence: second.leaseToken }).catch((e) => e)
    expect(refused).toBeInstanceOf(StaleLinkError)
    expect(refused.current.status).toBe('cancelled')
  })
})

describe('the sweeper against heartbeats', () => {
  it('loses the race: a heartbeat between its read and its write makes the write fail', async () => {
    const { doc: d, tableName: t } = await createTestTable('activity-race')
    const link = newLink('awaiting_scan', { createdAt: ago(600_000), heartbeatAt: ago(120_000), leaseToken: 3 })
    /** A store whose worker heart-beats right after the sweeper read the link. */
    class RacingStore extends LinkStore {
      override async *quietSince(before: Date) {
        for await (const quiet of super.quietSince(before)) {
          await this.heartbeat(quiet.id, { fence: quiet.leaseToken })
          yield quiet
        }
      }
    }
    const s = new RacingStore(d, t)
    await s.create(link)
    expect(await sweepStaleLinks(s)).toEqual({ lost: 0, expired: 0, adopted: 0 })
    const after = (await s.get(link.id))!
    expect(after.status).toBe('awaiting_scan')
    expect(after.version).toBe(link.version)

    // Without the heartbeat in between, the same link is swept.
    expect(await sweepStaleLinks(new LinkStore(d, t), { now: new Date(Date.now() + 60_000) })).toEqual({ lost: 1, expired: 0, adopted: 0 })
    expect(await s.get(link.id)).toMatchObject({ status: 'failed', error: { code: 'worker_lost' } })
  })

  it('ends an unclaimed link launch_failed after the launch grace, and expired once past its deadline', async () => {
    const { doc: d, tableName: t } = await createTestTable('activity-unclaimed')
    const s = new LinkStore(d, t)
    const young = newLink('pending', { createdAt: ago(60_000) })
    const old = newLink('pending', { createdAt: ago(200_000) })
    const due = newLink('pending', { createdAt: ago(60_000), expiresAt: ago(1_000) })
    for (const l of [young, old, due]) await s.create(l)
    expect(await sweepStaleLinks(s)).toEqual({ lost: 1, expired: 1, adopted: 0 })
    expect(await s.get(young.id)).toMatchObject({ status: 'pending' })
    expect(await s.get(old.id)).toMatchObject({ status: 'failed', error: { code: 'launch_failed' } })
    expect(await s.get(due.id)).toMatchObject({ status: 'expired', error: { code: 'deadline' } })
  })
})
