/**
 * The link state machine. This module is the one place that decides whether a status change is
 * allowed; the store refuses any write that this module does not allow.
 */
export const LINK_STATUSES = [
  'pending',
  'starting',
  'awaiting_scan',
  'awaiting_code',
  'pairing',
  'linked',
  'expired',
  'failed',
  'cancelled',
  'unlinked',
] as const
export type LinkStatus = (typeof LINK_STATUSES)[number]

export const FINAL_STATUSES: readonly LinkStatus[] = ['expired', 'failed', 'cancelled', 'unlinked']
/** Statuses in which a worker is (or should be) holding a socket for the link. */
export const IN_PROGRESS_STATUSES: readonly LinkStatus[] = ['pending', 'starting', 'awaiting_scan', 'awaiting_code', 'pairing']

const FORWARD: Record<LinkStatus, readonly LinkStatus[]> = {
  pending: ['starting'],
  starting: ['awaiting_scan', 'awaiting_code'],
  // A code link also shows a QR, so the user may scan instead of typing: both lead to pairing.
  awaiting_scan: ['awaiting_code', 'pairing'],
  awaiting_code: ['pairing'],
  pairing: ['linked'],
  linked: ['unlinked'],
  expired: [],
  failed: [],
  cancelled: [],
  unlinked: [],
}
const ENDINGS: readonly LinkStatus[] = ['expired', 'failed', 'cancelled']

export function isFinal(status: LinkStatus): boolean {
  return FINAL_STATUSES.includes(status)
}

export function isInProgress(status: LinkStatus): boolean {
  return IN_PROGRESS_STATUSES.includes(status)
}

export function canTransition(from: LinkStatus, to: LinkStatus): boolean {
  if (isFinal(from)) return false
  if (from !== 'linked' && ENDINGS.includes(to)) return true
  return FORWARD[from].includes(to)
}
