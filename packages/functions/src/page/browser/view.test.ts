import { describe, expect, it } from 'vitest'
import { LINK_ENDINGS } from '@wa-link-broker/core/link'
import type { Link } from '@wa-link-broker/client'
import { screenFor, timeLeft } from './view.ts'

const now = Date.parse('2026-11-21T10:00:00.000Z')
const later = new Date(now + 30_000).toISOString()
const earlier = new Date(now - 1).toISOString()

function link(patch: Partial<Link>): Link {
  return {
    id: 'lnk_1', status: 'pending', method: 'qr', phoneNumber: null, qr: null, pairingCode: null, account: null, error: null,
    metadata: {}, createdAt: earlier, updatedAt: earlier, expiresAt: later, pollAfterMs: 500, ...patch,
  } as Link
}

describe('screenFor', () => {
  it('shows the QR only while it is valid', () => {
    const qr = { value: 'v', sequence: 2, expiresAt: later, imageUrl: '/x' }
    expect(screenFor(link({ status: 'awaiting_scan', qr }), now)).toMatchObject({ kind: 'qr', qr: { sequence: 2 } })
    expect(screenFor(link({ status: 'awaiting_scan', qr: { ...qr, expiresAt: earlier } }), now)).toMatchObject({ kind: 'preparing' })
  })

  it('shows the code with the number to open, and the QR as an alternative', () => {
    const screen = screenFor(link({ status: 'awaiting_code', method: 'code', phoneNumber: '12345678901', pairingCode: { code: 'ABCD-1234', expiresAt: later }, qr: { value: 'v', sequence: 1, expiresAt: later, imageUrl: '/x' } }), now)
    expect(screen).toMatchObject({ kind: 'code', code: 'ABCD-1234', qr: { value: 'v' } })
    expect(JSON.stringify(screen)).toContain('+12345678901')
  })

  it('names the account once linked', () => {
    expect(screenFor(link({ status: 'linked', account: { jid: 'j', phoneNumber: '12345678901', name: 'Ada', platform: null } }), now)).toMatchObject({ kind: 'linked', account: { name: 'Ada', phone: '+12345678901' } })
  })

  it('has the plain words of core for every end reason, and its own title per final status', () => {
    for (const [code, ending] of Object.entries(LINK_ENDINGS)) {
      const screen = screenFor(link({ status: ending.status, error: { code: code as never, message: ending.message } }), now)
      expect(screen).toMatchObject({ kind: 'ended', status: ending.status, message: ending.userMessage })
    }
    expect(new Set(['expired', 'failed', 'cancelled', 'unlinked'].map((status) => (screenFor(link({ status: status as never }), now) as { title: string }).title)).size).toBe(4)
  })
})

describe('timeLeft', () => {
  it('counts down in minutes and seconds, never below zero', () => {
    expect(timeLeft(new Date(now + 61_000).toISOString(), now)).toBe('1:01')
    expect(timeLeft(new Date(now + 9_500).toISOString(), now)).toBe('0:10')
    expect(timeLeft(earlier, now)).toBe('0:00')
  })
})
