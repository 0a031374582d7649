import { createHash } from 'node:crypto'
import { toBase32 } from '../ids.ts'
import type { Link } from '../link/link.ts'
import type { LinkStatus } from '../link/status.ts'
import { isLinkKey, linkFromItem } from '../store/link-item.ts'

/**
 * The one module that decides which webhook events a change of a link makes. Both stream drivers
 * (the Lambda in AWS, the reader inside `npm start`) hand it every record they read.
 */

/** Every event type a tenant can receive. */
export const WEBHOOK_EVENT_TYPES = [
  'link.awaiting_scan',
  'link.awaiting_code',
  'link.pairing',
  'link.linked',
  'link.expired',
  'link.failed',
  'link.cancelled',
  'link.unlinked',
  'link.qr_updated',
  'link.pairing_code_updated',
] as const
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

/** A record of the table's stream, images unmarshalled. */
export interface StreamChange {
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE'
  keys: Record<string, unknown>
  oldImage?: Record<string, unknown>
  newImage?: Record<string, unknown>
}

/** One event of one link, as the change that made it left the link. */
export interface LinkEvent {
  /** Deterministic from the change: a replayed stream record makes the same id, not a second event. */
  id: string
  type: WebhookEventType
  linkId: string
  tenantId: string
  /** The link's version after the change: orders a link's events. */
  version: number
  /** When the change was written: the link's `updatedAt`. */
  occurredAt: string
  url: string
  /** The link as of the change (client token hashes left out: an event never needs them). */
  link: Link
}

export const EVENT_ID_PATTERN = /^evt_[0-9a-hjkmnp-tv-z]{26}$/

export function webhookEventId(linkId: string, version: number, type: WebhookEventType): string {
  return `evt_${toBase32(createHash('sha256').update(`${linkId}/${version}/${type}`).digest().subarray(0, 16))}`
}

/** Zero or more events for one stream record; anything a poller cannot see (heartbeats, leases, bookkeeping) makes none. */
export function linkEventsFromChange(change: StreamChange): LinkEvent[] {
  if (change.eventName === 'REMOVE' || !change.newImage || !isLinkKey(change.keys)) return []
  const after = linkFromItem(change.newImage)
  if (!after.webhookUrl) return []
  const before = change.oldImage ? linkFromItem(change.oldImage) : null
  const type = eventTypeOf(before, after)
  if (!type) return []
  return [
    {
      id: webhookEventId(after.id, after.version, type),
      type,
      linkId: after.id,
      tenantId: after.tenantId,
      version: after.version,
      occurredAt: after.updatedAt,
      url: after.webhookUrl,
      link: { ...after, clientTokenHashes: [] },
    },
  ]
}

function eventTypeOf(before: Link | null, after: Link): WebhookEventType | null {
  if (before?.status !== after.status) return statusEventType(after.status)
  if (after.qr && after.qr.sequence !== before.qr?.sequence) return 'link.qr_updated'
  if (after.pairingCode && (after.pairingCode.code !== before.pairingCode?.code || after.pairingCode.expiresAt !== before.pairingCode?.expiresAt)) {
    return 'link.pairing_code_updated'
  }
  return null
}

/** `link.<status>` for the statuses a tenant is told about; `pending` and `starting` are the service's own. */
export function statusEventType(status: LinkStatus): WebhookEventType | null {
  const type = `link.${status}`
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type) ? (type as WebhookEventType) : null
}
