import { describe, expect, it } from 'vitest'
import { LINK_STATUSES, linkEnding, type LinkViewSource } from '@wa-link-broker/core/link'
import { pollAfterMs, toLinkView } from './link-view.ts'
import { LinkSchema } from './schemas.ts'

const NOW = new Date('2030-01-01T00:01:00.000Z')
const later = (s: number) => new Date(NOW.getTime() + s * 1000).toISOString()

const stored = (extra: Partial<LinkViewSource> = {}): LinkViewSource => ({
  id: 'lnk_0123456789abcdefghjkmnpqrs',
  status: 'awaiting_code',
  method: 'code',
  phoneNumber: '12345678901',
  qr: { value: 'https://wa.me/settings/linked_devices#ref', sequence: 2, expiresAt: later(20) },
  pairingCode: { code: 'ABCD-1234', expiresAt: later(200) },
  account: null,
  error: null,
  metadata: { user: 42 },
  redirectUrl: 'https://app.example.com/done',
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:00:30.000Z',
  expiresAt: later(240),
  relinkOf: null,
  relinkedTo: null,
  ...extra,
})

describe('toLinkView', () => {
  it('is the API’s Link schema, with the QR’s image URL', () => {
    const view = toLinkView(stored(), NOW)
    expect(LinkSchema.parse(view)).toEqual(view)
    expect(view).toMatchObject({ status: 'awaiting_code', pairingCode: { code: 'ABCD-1234' }, qr: { sequence: 2, imageUrl: '/v1/links/lnk_0123456789abcdefghjkmnpqrs/qr.svg' }, pollAfterMs: 1000 })
  })

  it('shows a QR or a code only while it is valid', () => {
    const view = toLinkView(stored({ qr: { value: 'old', sequence: 1, expiresAt: later(-1) }, pairingCode: { code: 'OLD0-0000', expiresAt: later(0) } }), NOW)
    expect(view.qr).toBeNull()
    expect(view.pairingCode).toBeNull()
  })

  it('reads a link past its deadline as expired, whatever is stored, with nothing left to show', () => {
    expect(toLinkView(stored({ expiresAt: later(0) }), NOW)).toMatchObject({ status: 'expired', error: linkEnding('deadline'), qr: null, pairingCode: null, pollAfterMs: null })
  })

  it('an ended link keeps its error and shows no QR', () => {
    const error = linkEnding('replaced')
    expect(toLinkView(stored({ status: 'failed', error }), NOW)).toMatchObject({ status: 'failed', error, qr: null, pairingCode: null })
  })

  it('fills what links stored before a field existed lack', () => {
    const { redirectUrl: _r, relinkOf: _o, relinkedTo: _t, ...old } = stored()
    expect(toLinkView(old as LinkViewSource, NOW)).toMatchObject({ redirectUrl: null, relinkOf: null, relinkedTo: null })
  })
})

describe('pollAfterMs', () => {
  it('250 ms while the first QR or code is on its way, 1 s while a person acts, null once nothing changes by itself', () => {
    expect(Object.fromEntries(LINK_STATUSES.map((s) => [s, pollAfterMs(s)]))).toEqual({
      pending: 250,
      starting: 250,
      awaiting_scan: 1000,
      awaiting_code: 1000,
      pairing: 1000,
      linked: null,
      expired: null,
      failed: null,
      cancelled: null,
      unlinked: null,
    })
  })
})
