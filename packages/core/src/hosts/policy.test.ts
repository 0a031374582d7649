import { describe, expect, it } from 'vitest'
import type { Link } from '../link/link.ts'
import { handOverPatch, heldByLiveWorker, LEASE_STALE_MS, MAX_LEASES, planJob } from './policy.ts'

const NOW = Date.parse('2030-01-01T00:00:00.000Z')
const ago = (ms: number) => new Date(NOW - ms).toISOString()
const link = (extra: Partial<Link>): Link => ({ id: 'lnk_x', status: 'awaiting_scan', version: 4, leaseToken: 1, workerId: 'h1', heartbeatAt: ago(1000), qr: null, ...extra }) as Link

describe('planJob: what a host does with a link id it was given', () => {
  it('claims a pending link', () => {
    expect(planJob(link({ status: 'pending', workerId: null, heartbeatAt: null, leaseToken: 0 }), NOW)).toEqual({ kind: 'link', from: ['pending'], to: 'starting', takeover: false })
  })

  it('leaves alone a link held by a live worker, a final one, a missing one, a plain linked one', () => {
    expect(planJob(link({}), NOW)).toMatchObject({ kind: 'skip', why: 'held' })
    expect(planJob(link({ status: 'cancelled' }), NOW)).toMatchObject({ kind: 'skip' })
    expect(planJob(null, NOW)).toMatchObject({ kind: 'skip', why: 'gone' })
    expect(planJob(link({ status: 'linked', workerId: null }), NOW)).toMatchObject({ kind: 'skip', why: 'linked' })
  })

  it('takes over a link that was handed over or whose worker went quiet, conditional on the version read', () => {
    expect(planJob(link({ workerId: null }), NOW)).toEqual({ kind: 'link', from: ['awaiting_scan'], version: 4, heartbeatAt: ago(1000), takeover: true })
    expect(planJob(link({ status: 'awaiting_code', heartbeatAt: ago(LEASE_STALE_MS) }), NOW)).toEqual({ kind: 'link', from: ['awaiting_code'], version: 4, heartbeatAt: ago(LEASE_STALE_MS), takeover: true })
  })

  it('gives up on a link that was pairing, or that has had too many holders already', () => {
    expect(planJob(link({ status: 'pairing', workerId: null }), NOW)).toMatchObject({ kind: 'give_up' })
    expect(planJob(link({ workerId: null, leaseToken: MAX_LEASES }), NOW)).toMatchObject({ kind: 'give_up' })
  })

  it('runs a requested logout nobody is running', () => {
    expect(planJob(link({ status: 'linked', workerId: null, logoutRequestedAt: ago(5) }), NOW)).toEqual({ kind: 'logout', version: 4 })
    expect(planJob(link({ status: 'linked', workerId: 'h2', logoutRequestedAt: ago(5) }), NOW)).toMatchObject({ kind: 'skip', why: 'logout_held' })
    expect(planJob(link({ status: 'linked', workerId: 'h2', heartbeatAt: ago(LEASE_STALE_MS + 1), logoutRequestedAt: ago(5) }), NOW)).toMatchObject({ kind: 'logout' })
  })

  it('an older link without workerId counts as held while it heart-beats', () => {
    const legacy = link({})
    delete legacy.workerId
    expect(heldByLiveWorker(legacy, NOW)).toBe(true)
    expect(heldByLiveWorker({ ...legacy, heartbeatAt: ago(LEASE_STALE_MS) }, NOW)).toBe(false)
  })

  it('a hand-over hides the QR and code but keeps the QR sequence', () => {
    const patch = handOverPatch(link({ qr: { value: 'secret', sequence: 7, expiresAt: ago(-5000) }, pairingCode: { code: 'X', expiresAt: '' } }), new Date(NOW))
    expect(patch).toEqual({ workerId: null, pairingCode: null, qr: { value: '', sequence: 7, expiresAt: new Date(NOW).toISOString() } })
  })
})
