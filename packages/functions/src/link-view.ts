import type { z } from '@hono/zod-openapi'
import { effectiveStatus, isFinal, isInProgress, type LinkStatus, type LinkViewSource } from '@wa-link-broker/core/link'
import type { LinkSchema } from './schemas.ts'

/** What a client sees of a link: the API's `Link` schema, the body of GET /v1/links/{id} and of every webhook. */
export type LinkView = z.infer<typeof LinkSchema>

/** Where the API serves a link's current QR as an image (routes/qr.ts serves these paths; `{id}` for its route). */
export const qrImagePath = (linkId: string, format: 'svg' | 'png' = 'svg') => `/v1/links/${linkId}/qr.${format}`

/**
 * When a poller should ask again: soon while the first QR or code is on its way (a warm host shows
 * it a few hundred milliseconds after the create), every second while a person acts, never once
 * the status will not change by itself.
 */
export function pollAfterMs(status: LinkStatus): number | null {
  if (isFinal(status) || status === 'linked') return null
  return status === 'pending' || status === 'starting' ? 250 : 1000
}

function stillValid<T extends { expiresAt: string }>(value: T | null, now: Date): T | null {
  return value && Date.parse(value.expiresAt) > now.getTime() ? value : null
}

/** The link as of `now`: past its deadline it reads expired, and a QR or code is shown only while it is valid. */
export function toLinkView(link: LinkViewSource, now: Date = new Date()): LinkView {
  const { status, error } = effectiveStatus(link, now)
  const live = isInProgress(status)
  const qr = live ? stillValid(link.qr, now) : null
  return {
    id: link.id,
    status,
    method: link.method,
    phoneNumber: link.phoneNumber,
    qr: qr && { ...qr, imageUrl: qrImagePath(link.id) },
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
