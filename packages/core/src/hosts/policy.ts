import type { Link } from '../link/link.ts'
import { isFinal, type LinkStatus } from '../link/status.ts'

/**
 * The timing and takeover rules shared by hosts, the dispatcher, the sweepers and the settling of
 * a stopped worker: one home for each number, read everywhere else.
 */

/** A lease whose holder has not heart-beaten for this long is presumed dead: a peer may take the link over. */
export const LEASE_STALE_MS = 10_000
/** A link nobody holds (never claimed, or handed over) for this long is adopted by a peer host with room. */
export const UNCLAIMED_ADOPT_MS = 3_000
/** A host that has not heart-beaten for this long is offered no new links… */
export const HOST_STALE_MS = 10_000
/** …and it heart-beats this often. */
export const HOST_HEARTBEAT_MS = 2_000
/**
 * Every claim takes the next fencing token, so `leaseToken` counts a link's holders. A link that
 * already had this many is not taken over again: a link that keeps killing its hosts ends instead.
 */
export const MAX_LEASES = 3

/** What a worker host should do with a link id it was given (by a dispatcher or its own sweep). */
export type Job =
  /**
   * Run the link: a fresh claim of a pending link, or a takeover of one whose holder is gone,
   * conditional on the version and the heartbeat read (heartbeats do not move the version).
   */
  | { kind: 'link'; from: LinkStatus[]; to?: LinkStatus; version?: number; heartbeatAt?: string | null; takeover: boolean }
  /** Log the linked device out (a DELETE asked for it and no live worker is doing it). */
  | { kind: 'logout'; version: number }
  /** Nobody holds it and it may not be taken over again: end it failed/worker_lost. */
  | { kind: 'give_up'; why: string }
  /** Nothing to do: the link is gone, final, linked, or held by a live worker. */
  | { kind: 'skip'; why: string }

/** True while the worker named on the link holds its lease and heart-beats. */
export function heldByLiveWorker(link: Link, now: number): boolean {
  if (link.workerId === null) return false // handed over (or never claimed)
  return link.heartbeatAt !== null && now - Date.parse(link.heartbeatAt) < LEASE_STALE_MS
}

/** Statuses a new holder can resume by reconnecting with the stored auth state. */
const RESUMABLE: readonly LinkStatus[] = ['starting', 'awaiting_scan', 'awaiting_code']

export function planJob(link: Link | null, now: number): Job {
  if (!link) return { kind: 'skip', why: 'gone' }
  if (isFinal(link.status)) return { kind: 'skip', why: link.status }
  if (link.status === 'pending') return { kind: 'link', from: ['pending'], to: 'starting', takeover: false }
  if (link.status === 'linked') {
    if (!link.logoutRequestedAt) return { kind: 'skip', why: 'linked' }
    if (heldByLiveWorker(link, now)) return { kind: 'skip', why: 'logout_held' }
    return { kind: 'logout', version: link.version }
  }
  if (heldByLiveWorker(link, now)) return { kind: 'skip', why: 'held' }
  if (!RESUMABLE.includes(link.status)) return { kind: 'give_up', why: `its worker stopped while ${link.status}` }
  if (link.leaseToken >= MAX_LEASES) return { kind: 'give_up', why: `taken over ${link.leaseToken - 1} times already` }
  return { kind: 'link', from: [link.status], version: link.version, heartbeatAt: link.heartbeatAt, takeover: true }
}

/**
 * The fenced write that lets go of a link without ending it, so another host can take it over:
 * nobody holds it now, and its QR and pairing code (which belonged to the closed socket) are no
 * longer shown. The QR keeps its sequence, expired, so the next holder's QRs continue it.
 */
export function handOverPatch(link: Link, now: Date) {
  return {
    workerId: null,
    qr: link.qr ? { value: '', sequence: link.qr.sequence, expiresAt: now.toISOString() } : null,
    pairingCode: null,
  }
}
