import { describe, expect, it } from 'vitest'
import type { Link } from '../link/link.ts'
import { FINISHED_RETENTION_SECONDS, isLinkKey, linkFromItem, linkIdOf, linkKey, toItem, ttlFor } from './link-item.ts'
import { activityShard } from './table.ts'

const NOW = new Date('2030-01-01T00:00:00.000Z')
const epoch = (iso: string) => Date.parse(iso) / 1000

const link = (extra: Partial<Link> = {}): Link => ({
  id: 'lnk_0123456789abcdefghjkmnpqrs',
  tenantId: 'acme',
  status: 'pending',
  method: 'qr',
  phoneNumber: null,
  qr: null,
  pairingCode: null,
  account: null,
  error: null,
  metadata: { user: { id: 42 }, '': 'empty key' },
  webhookUrl: null,
  redirectUrl: null,
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:00:00.000Z',
  expiresAt: '2030-01-01T00:05:00.000Z',
  version: 1,
  leaseToken: 0,
  heartbeatAt: null,
  workerId: null,
  clientTokenHashes: ['ab'],
  ...extra,
})

describe('a link as an item', () => {
  it('round-trips, metadata kept as JSON text (a DynamoDB map refuses an empty key)', () => {
    const item = toItem(link(), NOW)
    expect(item.metadata).toBe(JSON.stringify(link().metadata))
    expect(linkFromItem(item)).toEqual(link())
  })

  it('carries its keys: its own, the tenant index (newest first by creation), the activity index while in progress', () => {
    const item = toItem(link(), NOW)
    expect(item).toMatchObject({ pk: 'LINK#lnk_0123456789abcdefghjkmnpqrs', sk: 'LINK', gsi1pk: 'TENANT#acme', gsi1sk: '2030-01-01T00:00:00.000Z#lnk_0123456789abcdefghjkmnpqrs' })
    expect(item.gsi2pk).toBe(`ACTIVE#${activityShard(link().id)}`)
    expect(item.gsi2sk).toBe('P#2030-01-01T00:00:00.000Z')
    expect(toItem(link({ status: 'awaiting_scan', heartbeatAt: '2030-01-01T00:00:03.000Z' }), NOW).gsi2sk).toBe('H#2030-01-01T00:00:03.000Z')
    const linked = toItem(link({ status: 'linked' }), NOW)
    expect(linked.gsi2pk).toBeUndefined()
    expect(linked.gsi2sk).toBeUndefined()
  })

  it('expires a finished link a retention after it finished, one in progress a retention after its deadline, never a linked one', () => {
    expect(ttlFor({ status: 'failed', expiresAt: link().expiresAt }, NOW)).toBe(epoch(NOW.toISOString()) + FINISHED_RETENTION_SECONDS)
    expect(ttlFor({ status: 'awaiting_scan', expiresAt: link().expiresAt }, NOW)).toBe(epoch(link().expiresAt) + FINISHED_RETENTION_SECONDS)
    expect(ttlFor({ status: 'linked', expiresAt: link().expiresAt }, NOW)).toBeUndefined()
  })

  it('knows a link item key from any other item of the table', () => {
    expect(isLinkKey(linkKey('lnk_x'))).toBe(true)
    expect(linkIdOf(linkKey('lnk_x'))).toBe('lnk_x')
    expect(isLinkKey({ pk: 'LINK#lnk_x', sk: 'OTHER' })).toBe(false)
    expect(isLinkKey({ pk: 'EVT#lnk_x', sk: 'LINK' })).toBe(false)
    expect(isLinkKey({})).toBe(false)
  })
})
