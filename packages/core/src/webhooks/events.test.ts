import { describe, expect, it } from 'vitest'
import type { Link } from '../link/link.ts'
import { LINK_STATUSES, type LinkStatus } from '../link/status.ts'
import { EVENT_ID_PATTERN, linkEventsFromChange, statusEventType, WEBHOOK_EVENT_TYPES, type StreamChange } from './events.ts'

const base: Link = {
  id: 'lnk_0123456789abcdefghjkmnpqrs',
  tenantId: 'acme',
  status: 'starting',
  method: 'qr',
  phoneNumber: null,
  qr: null,
  pairingCode: null,
  account: null,
  error: null,
  metadata: { user: 'u1' },
  webhookUrl: 'https://hooks.example.com/wa',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:01.000Z',
  expiresAt: '2026-01-01T00:05:00.000Z',
  version: 2,
  leaseToken: 1,
  heartbeatAt: '2026-01-01T00:00:01.000Z',
  clientTokenHashes: ['ab'.repeat(32)],
}

/** A link item as the stream carries it (metadata as JSON text, keys and index attributes). */
function item(link: Link): Record<string, unknown> {
  return { pk: `LINK#${link.id}`, sk: 'LINK', gsi1pk: `TENANT#${link.tenantId}`, ttl: 123, ...link, metadata: JSON.stringify(link.metadata) }
}

function change(before: Partial<Link> | null, after: Partial<Link> | null): StreamChange {
  const old = before && { ...base, ...before }
  const next = after && { ...base, ...before, ...after, version: (before?.version ?? base.version) + 1 }
  return {
    eventName: !old ? 'INSERT' : !next ? 'REMOVE' : 'MODIFY',
    keys: { pk: `LINK#${base.id}`, sk: 'LINK' },
    oldImage: old ? item(old) : undefined,
    newImage: next ? item(next) : undefined,
  }
}

const qr = (sequence: number) => ({ value: `https://wa.me/settings/linked_devices#ref${sequence}`, sequence, expiresAt: '2026-01-01T00:01:00.000Z' })
const types = (c: StreamChange) => linkEventsFromChange(c).map((e) => e.type)

describe('link events from stream records', () => {
  it('a status change to a status a tenant is told about is link.<status>', () => {
    expect(types(change({ status: 'starting' }, { status: 'awaiting_scan', qr: qr(1) }))).toEqual(['link.awaiting_scan'])
    expect(types(change({ status: 'awaiting_scan', qr: qr(2) }, { status: 'pairing', qr: null }))).toEqual(['link.pairing'])
    expect(types(change({ status: 'pairing' }, { status: 'linked' }))).toEqual(['link.linked'])
    expect(types(change({ status: 'linked' }, { status: 'unlinked' }))).toEqual(['link.unlinked'])
    for (const ending of ['expired', 'failed', 'cancelled'] as const) expect(types(change({ status: 'awaiting_scan' }, { status: ending }))).toEqual([`link.${ending}`])
  })

  it('pending and starting are the service’s own: no event', () => {
    expect(types(change(null, { status: 'pending' }))).toEqual([])
    expect(types(change({ status: 'pending' }, { status: 'starting' }))).toEqual([])
    // Every other status has its type, and every type is a status or one of the two "updated" ones.
    const announced = LINK_STATUSES.filter((s) => statusEventType(s) !== null)
    expect(LINK_STATUSES.filter((s) => !announced.includes(s))).toEqual(['pending', 'starting'] satisfies LinkStatus[])
    expect(WEBHOOK_EVENT_TYPES).toEqual([...announced.map((s) => `link.${s}`), 'link.qr_updated', 'link.pairing_code_updated'])
  })

  it('a new QR within a status is link.qr_updated; a new code is link.pairing_code_updated', () => {
    expect(types(change({ status: 'awaiting_scan', qr: qr(1) }, { qr: qr(2) }))).toEqual(['link.qr_updated'])
    expect(types(change({ status: 'awaiting_code', qr: qr(3) }, { qr: qr(4) }))).toEqual(['link.qr_updated'])
    const code = { code: 'ABCD-1234', expiresAt: base.expiresAt }
    expect(types(change({ status: 'awaiting_code', pairingCode: null }, { pairingCode: code }))).toEqual(['link.pairing_code_updated'])
    expect(types(change({ status: 'awaiting_code', pairingCode: code }, { pairingCode: { ...code, code: 'WXYZ-9876' } }))).toEqual(['link.pairing_code_updated'])
    // A code taken away (the worker re-registers) is not a new code.
    expect(types(change({ status: 'awaiting_code', pairingCode: code }, { pairingCode: null }))).toEqual([])
  })

  it('changes a poller cannot see make no event: heartbeats, leases, method switches, removal', () => {
    const live = { status: 'awaiting_scan' as const, qr: qr(1) }
    expect(types(change(live, { heartbeatAt: '2026-01-01T00:00:06.000Z' }))).toEqual([])
    expect(types(change(live, { leaseToken: 2 }))).toEqual([])
    expect(types(change(live, { updatedAt: '2026-01-01T00:00:09.000Z' }))).toEqual([])
    expect(types(change(live, null))).toEqual([])
  })

  it('only links with a webhook URL, and only link items', () => {
    expect(types(change({ status: 'starting', webhookUrl: null }, { status: 'awaiting_scan' }))).toEqual([])
    const other: StreamChange = { eventName: 'MODIFY', keys: { pk: 'EVT#x', sk: 'QUEUE' }, oldImage: { pk: 'EVT#x', sk: 'QUEUE' }, newImage: { pk: 'EVT#x', sk: 'QUEUE', seq: 1 } }
    expect(linkEventsFromChange(other)).toEqual([])
  })

  it('the event carries the link as the change left it, its version, its updatedAt, and a deterministic id', () => {
    const c = change({ status: 'starting' }, { status: 'awaiting_scan', qr: qr(1), updatedAt: '2026-01-01T00:00:02.000Z' })
    const [event] = linkEventsFromChange(c)
    expect(event).toMatchObject({ type: 'link.awaiting_scan', linkId: base.id, tenantId: 'acme', version: 3, occurredAt: '2026-01-01T00:00:02.000Z', url: base.webhookUrl })
    expect(event.link).toMatchObject({ status: 'awaiting_scan', qr: qr(1), metadata: { user: 'u1' } })
    expect(event.link.clientTokenHashes).toEqual([])
    expect(event.id).toMatch(EVENT_ID_PATTERN)
    // The same record replayed makes the same id; another version or type another one.
    expect(linkEventsFromChange(c)[0].id).toBe(event.id)
    const next = linkEventsFromChange(change({ status: 'awaiting_scan', qr: qr(1), version: 3 }, { qr: qr(2) }))[0]
    expect(next.id).not.toBe(event.id)
  })
})
