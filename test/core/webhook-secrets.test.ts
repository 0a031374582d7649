import { randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb'
import { LocalKeyProvider } from '@wa-link-broker/core/crypto'
import { ROTATION_OVERLAP_MS, WebhookSecretStore } from '@wa-link-broker/core/webhooks'
import { createTestTable } from '../support/store.ts'

let table: Awaited<ReturnType<typeof createTestTable>>
const keys = new LocalKeyProvider(randomBytes(32))

beforeAll(async () => {
  table = await createTestTable('whsec')
})

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
    // Two rotations racing both land: the last one's predecessor overlaps with it.
    const [x, y] = await Promise.all([store.rotate('t3'), store.rotate('t3')])
    const live = await store.signingSecrets('t3')
    expect(live).toHaveLength(2)
    expect(new Set(live)).toEqual(new Set([x, y]))
  })

  it('a sealed secret copied to another tenant does not open there', async () => {
    const store = new WebhookSecretStore(table.doc, table.tableName, keys)
    await store.current('t4')
    const { Item } = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: { pk: 'WHSECRET#t4', sk: 'WHSECRET' } }))
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { ...Item, pk: 'WHSECRET#t5' } }))
    await expect(store.current('t5')).rejects.toThrow()
  })
})
