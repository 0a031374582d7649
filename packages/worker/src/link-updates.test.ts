import { describe, expect, it } from 'vitest'
import { canTransition, IN_PROGRESS_STATUSES, type Link, type LinkStatus } from '@wa-link-broker/core/link'
import { accountOf, endedWith, formatPairingCode, handedOver, heartbeat, linkedAs, pairingCodeIssued, pairingCodeWithdrawn, phoneAccepted, qrIssued, qrLifetimeMs, unlinked } from './link-updates.ts'

const link = (status: LinkStatus, extra: Partial<Link> = {}): Link =>
  ({ id: 'lnk_x', status, method: 'qr', qr: null, pairingCode: null, leaseToken: 1, version: 3, workerId: 'h1', ...extra }) as Link
const qr = { value: 'q', sequence: 2, expiresAt: '2030-01-01T00:00:00.000Z' }
const code = { code: 'ABCD-1234', expiresAt: '2030-01-01T00:00:00.000Z' }

/** Every plan must be one the state machine allows. */
function allowed<T extends { from: readonly LinkStatus[]; to?: LinkStatus } | null>(plan: T): T {
  if (plan?.to) for (const from of plan.from) expect(canTransition(from, plan.to), `${from} → ${plan.to}`).toBe(true)
  return plan
}

describe('Baileys events → link updates', () => {
  it('the first QR moves a starting link to awaiting_scan; later ones replace it', () => {
    expect(allowed(qrIssued(link('starting'), qr))).toEqual({ from: ['starting'], to: 'awaiting_scan', patch: { qr } })
    expect(allowed(qrIssued(link('awaiting_code'), qr))).toEqual({ from: ['awaiting_scan', 'awaiting_code'], patch: { qr } })
  })

  it('QR lifetimes follow Baileys: 60 s, then 20 s, unless qrTimeout is set', () => {
    expect([qrLifetimeMs(1), qrLifetimeMs(2), qrLifetimeMs(1, 1500)]).toEqual([60_000, 20_000, 1500])
  })

  it('a pairing code moves awaiting_scan to awaiting_code and replaces an older one', () => {
    expect(formatPairingCode('ABCD1234')).toBe('ABCD-1234')
    expect(allowed(pairingCodeIssued(link('awaiting_scan'), code))).toEqual({ from: ['awaiting_scan'], to: 'awaiting_code', patch: { pairingCode: code } })
    expect(allowed(pairingCodeIssued(link('awaiting_code'), code))).toEqual({ from: ['awaiting_code'], patch: { pairingCode: code } })
    expect(pairingCodeWithdrawn(link('awaiting_code'))).toBeNull()
    expect(pairingCodeWithdrawn(link('awaiting_code', { pairingCode: code }))).toEqual({ from: ['awaiting_code'], patch: { pairingCode: null } })
  })

  it('pairing hides the QR and code once; linked lets go of the lease holder', () => {
    expect(allowed(phoneAccepted(link('awaiting_scan')))).toMatchObject({ to: 'pairing', patch: { qr: null, pairingCode: null } })
    expect(phoneAccepted(link('pairing'))).toBeNull()
    const account = accountOf({ id: '12345678901:3@s.whatsapp.net', name: 'Ada' }, 'smba')
    expect(account).toEqual({ jid: '12345678901:3@s.whatsapp.net', phoneNumber: '12345678901', name: 'Ada', platform: 'smba' })
    expect(allowed(linkedAs(account))).toMatchObject({ from: ['pairing'], to: 'linked', patch: { workerId: null, error: null } })
  })

  it('accountOf: "~" is no name; the verified business name stands in', () => {
    expect(accountOf({ id: '1@s.whatsapp.net', name: '~' })).toMatchObject({ name: null, platform: null })
    expect(accountOf({ id: '1_1:2@s.whatsapp.net', verifiedName: 'Shop' })).toMatchObject({ phoneNumber: '1', name: 'Shop' })
  })

  it('an ending is written from every in-progress status that may reach it', () => {
    for (const to of ['expired', 'failed', 'cancelled'] as const) {
      const plan = allowed(endedWith(to, null))!
      expect(plan.from).toEqual(IN_PROGRESS_STATUSES)
      expect(plan.patch).toEqual({ qr: null, pairingCode: null, error: null })
    }
  })

  it('a hand-over keeps the status and the QR sequence, shows nothing, and names no holder', () => {
    const now = new Date('2030-01-01T00:00:00.000Z')
    expect(handedOver(link('awaiting_code', { qr, pairingCode: code }), now)).toEqual({
      from: ['awaiting_code'],
      patch: { workerId: null, pairingCode: null, qr: { value: '', sequence: 2, expiresAt: now.toISOString() } },
    })
  })

  it('heartbeat and unlinked', () => {
    expect(heartbeat(['linked'], new Date(0))).toEqual({ from: ['linked'], patch: { heartbeatAt: new Date(0).toISOString() } })
    expect(allowed(unlinked(true))).toMatchObject({ to: 'unlinked', patch: { error: null } })
    expect(unlinked(false).patch!.error).toMatchObject({ code: 'logout_unconfirmed' })
  })
})
