import type { Logger } from 'pino'
import { linkEnding } from './link/endings.ts'
import { DEADLINE_ERROR } from './link/link.ts'
import { IN_PROGRESS_STATUSES } from './link/status.ts'
import { StaleLinkError, type LinkStore } from './store/link-store.ts'

export interface SweepOptions {
  now?: Date
  /** A claimed link whose worker has not heart-beaten for this long has lost its worker. */
  staleAfterMs?: number
  /** A link no worker has claimed within this long was never started (a Fargate start can take a minute). */
  launchGraceMs?: number
  logger?: Logger
}

export const DEFAULT_STALE_AFTER_MS = 30_000
export const DEFAULT_LAUNCH_GRACE_MS = 150_000

/**
 * Makes stored statuses true when no worker will: a link whose worker stopped heart-beating
 * becomes failed/worker_lost, or expired/deadline once past its deadline. Each write is
 * conditional on the version read, so a worker that heart-beats meanwhile wins.
 */
export async function sweepStaleLinks(store: LinkStore, options: SweepOptions = {}): Promise<{ lost: number; expired: number }> {
  const now = options.now ?? new Date()
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS
  const launchGraceMs = options.launchGraceMs ?? DEFAULT_LAUNCH_GRACE_MS
  const result = { lost: 0, expired: 0 }
  for await (const link of store.quietSince(new Date(now.getTime() - staleAfterMs))) {
    const pastDeadline = now.getTime() >= Date.parse(link.expiresAt)
    const neverClaimed = link.status === 'pending' && link.heartbeatAt === null
    if (!pastDeadline && neverClaimed && now.getTime() - Date.parse(link.createdAt) < launchGraceMs) continue
    try {
      await store.update(link.id, {
        from: IN_PROGRESS_STATUSES,
        to: pastDeadline ? 'expired' : 'failed',
        version: link.version,
        patch: {
          qr: null,
          pairingCode: null,
          error: pastDeadline ? DEADLINE_ERROR : linkEnding('worker_lost', neverClaimed ? 'No worker started for the link.' : undefined),
        },
      })
      result[pastDeadline ? 'expired' : 'lost']++
      // No worker is left to erase the link's credentials.
      await store.eraseCredentials(link.id)
      options.logger?.warn({ linkId: link.id, status: link.status, pastDeadline }, 'swept a link whose worker is gone')
    } catch (error) {
      if (!(error instanceof StaleLinkError)) throw error
    }
  }
  return result
}
