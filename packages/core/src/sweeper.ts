import type { Logger } from 'pino'
import { linkEnding } from './link/endings.ts'
import { DEADLINE_ERROR, type Link } from './link/link.ts'
import { IN_PROGRESS_STATUSES } from './link/status.ts'
import { StaleLinkError, type LinkStore } from './store/link-store.ts'

export interface SweepOptions {
  now?: Date
  /** A claimed link whose worker has not heart-beaten for this long has lost its worker. */
  staleAfterMs?: number
  /**
   * A link no worker has claimed within this long was never started (a Fargate start can take a
   * minute). In AWS the task-stopped rule usually settles such a link within seconds; this is the
   * backstop for a launch that left no task behind.
   */
  launchGraceMs?: number
  logger?: Logger
}

export const DEFAULT_STALE_AFTER_MS = 30_000
export const DEFAULT_LAUNCH_GRACE_MS = 150_000

/**
 * Makes stored statuses true when no worker will: a claimed link whose worker stopped
 * heart-beating becomes failed/worker_lost, a link no worker claimed in time failed/launch_failed,
 * and either becomes expired/deadline once past its deadline. Each write is conditional on the
 * version and the heartbeat read, so a worker that writes or heart-beats meanwhile wins.
 */
export async function sweepStaleLinks(store: LinkStore, options: SweepOptions = {}): Promise<{ lost: number; expired: number }> {
  const now = options.now ?? new Date()
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS
  const launchGraceMs = options.launchGraceMs ?? DEFAULT_LAUNCH_GRACE_MS
  const result = { lost: 0, expired: 0 }
  const quietSince = new Date(now.getTime() - staleAfterMs)

  const settle = async (link: Link, neverClaimed: boolean) => {
    const pastDeadline = now.getTime() >= Date.parse(link.expiresAt)
    if (!pastDeadline && neverClaimed && now.getTime() - Date.parse(link.createdAt) < launchGraceMs) return
    const error = pastDeadline
      ? DEADLINE_ERROR
      : neverClaimed
        ? linkEnding('launch_failed', `No worker claimed the link within ${Math.round(launchGraceMs / 1000)} s.`)
        : linkEnding('worker_lost')
    try {
      await store.update(link.id, {
        from: IN_PROGRESS_STATUSES,
        to: pastDeadline ? 'expired' : 'failed',
        version: link.version,
        heartbeatAt: link.heartbeatAt,
        patch: { qr: null, pairingCode: null, error },
      })
    } catch (e) {
      if (e instanceof StaleLinkError) return
      throw e
    }
    result[pastDeadline ? 'expired' : 'lost']++
    // No worker is left to erase the link's credentials.
    await store.eraseCredentials(link.id)
    options.logger?.warn({ linkId: link.id, status: link.status, code: error.code }, 'swept a link whose worker is gone')
  }

  for await (const link of store.quietSince(quietSince)) await settle(link, false)
  for await (const link of store.unclaimedSince(quietSince)) await settle(link, true)
  return result
}
