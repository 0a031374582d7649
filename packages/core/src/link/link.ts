import { linkEnding, type LinkError } from './endings.ts'
import { isFinal, isInProgress, type LinkStatus } from './status.ts'

export type { LinkError }

export type LinkMethod = 'qr' | 'code'

export interface LinkQr {
  value: string
  sequence: number
  expiresAt: string
}

export interface LinkPairingCode {
  code: string
  expiresAt: string
}

export interface LinkAccount {
  jid: string
  phoneNumber: string
  name: string | null
  platform: string | null
}

/** A link as stored. Times are ISO strings. */
export interface Link {
  id: string
  tenantId: string
  status: LinkStatus
  method: LinkMethod
  phoneNumber: string | null
  qr: LinkQr | null
  pairingCode: LinkPairingCode | null
  account: LinkAccount | null
  error: LinkError | null
  metadata: Record<string, unknown>
  webhookUrl: string | null
  /** Where the hosted page sends the person once the link is done (validated at create time); absent on older items. */
  redirectUrl?: string | null
  createdAt: string
  updatedAt: string
  expiresAt: string
  /** Incremented by every write: optimistic concurrency for the API and the worker alike. */
  version: number
  /** Fencing token of the worker that holds the link; a worker whose token is stale can never write. */
  leaseToken: number
  heartbeatAt: string | null
  /** The worker host holding the lease (set by every claim; null once it handed the link over). */
  workerId?: string | null
  /** When a logout of this linked link was asked for (DELETE); the logout queue retries it until it ends. */
  logoutRequestedAt?: string | null
  /** The ECS task last started for the link (set when RunTask returns it; absent locally). */
  taskArn?: string | null
  /** SHA-256 (hex) of the client tokens handed out for this link. */
  clientTokenHashes: string[]
  /** The ended (or logged-out) link this one starts over for (`POST /v1/links {relinkOf}`). */
  relinkOf?: string | null
  /** The link started over for this one, once relinked. */
  relinkedTo?: string | null
}

/**
 * The stored fields a link's public view is made of: `toLinkView` reads only these, and the
 * tenant index projects exactly these (store/table.ts), so a list can render full views.
 */
export const LINK_VIEW_FIELDS = [
  'id', 'status', 'method', 'phoneNumber', 'qr', 'pairingCode', 'account', 'error', 'metadata', 'redirectUrl', 'createdAt', 'updatedAt', 'expiresAt',
  'relinkOf', 'relinkedTo',
] as const satisfies readonly (keyof Link)[]
export type LinkViewSource = Pick<Link, (typeof LINK_VIEW_FIELDS)[number]>

/** What a client sees: the stored link as of `now`. */
export interface LinkView {
  id: string
  status: LinkStatus
  method: LinkMethod
  phoneNumber: string | null
  qr: (LinkQr & { imageUrl: string }) | null
  pairingCode: LinkPairingCode | null
  account: LinkAccount | null
  error: LinkError | null
  metadata: Record<string, unknown>
  redirectUrl: string | null
  createdAt: string
  updatedAt: string
  expiresAt: string
  pollAfterMs: number | null
  relinkOf: string | null
  relinkedTo: string | null
}

export const DEADLINE_ERROR: LinkError = linkEnding('deadline')

/** A link past its deadline reads as expired even when nothing updated it (its worker may be dead). */
export function effectiveStatus(link: Pick<Link, 'status' | 'error' | 'expiresAt'>, now: Date): { status: LinkStatus; error: LinkError | null } {
  if (isInProgress(link.status) && now.getTime() >= Date.parse(link.expiresAt)) {
    return { status: 'expired', error: DEADLINE_ERROR }
  }
  return { status: link.status, error: link.error }
}

function stillValid<T extends { expiresAt: string }>(value: T | null, now: Date): T | null {
  return value && Date.parse(value.expiresAt) > now.getTime() ? value : null
}

/**
 * When a poller should ask again: soon while the first QR or code is on its way (a warm host shows
 * it a few hundred milliseconds after the create), every second while a person acts, never once
 * the status will not change by itself.
 */
export function pollAfterMs(status: LinkStatus): number | null {
  if (isFinal(status) || status === 'linked') return null
  return status === 'pending' || status === 'starting' ? 250 : 1000
}

export function toLinkView(link: LinkViewSource, now: Date = new Date()): LinkView {
  const { status, error } = effectiveStatus(link, now)
  const live = isInProgress(status)
  const qr = live ? stillValid(link.qr, now) : null
  return {
    id: link.id,
    status,
    method: link.method,
    phoneNumber: link.phoneNumber,
    qr: qr && { ...qr, imageUrl: `/v1/links/${link.id}/qr.svg` },
    pairingCode: live ? stillValid(link.pairingCode, now) : null,
    account: link.account,
    error,
    metadata: link.metadata,
    // Links stored before redirectUrl existed have none.
    redirectUrl: link.redirectUrl ?? null,
    createdAt: link.createdAt,
    updatedAt: link.updatedAt,
    expiresAt: link.expiresAt,
    pollAfterMs: pollAfterMs(status),
    relinkOf: link.relinkOf ?? null,
    relinkedTo: link.relinkedTo ?? null,
  }
}
