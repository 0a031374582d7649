import type { Logger } from 'pino'
import { heldByLiveWorker, planJob, UNCLAIMED_ADOPT_MS } from './hosts/policy.ts'
import { endingStatus, linkEnding, type LinkError } from './link/endings.ts'
import { DEADLINE_ERROR, type Link } from './link/link.ts'
import { IN_PROGRESS_STATUSES } from './link/status.ts'
import { StaleLinkError, type LinkStore } from './store/link-store.ts'
import type { LogoutRequests } from './store/logout-requests.ts'

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
  /**
   * A peer host with room: takes over a link nobody holds (never claimed after `adoptAfterMs`, handed
   * over, or whose holder went quiet). Resolves true when it took the link; a link not adopted is
   * ended as without `adopt`.
   */
  adopt?: (link: Link) => Promise<boolean>
  adoptAfterMs?: number
  logger?: Logger
}

export const DEFAULT_STALE_AFTER_MS = 30_000
export const DEFAULT_LAUNCH_GRACE_MS = 150_000

export interface SweepResult {
  lost: number
  expired: number
  adopted: number
}

/**
 * Makes stored statuses true when no worker will: a claimed link whose worker stopped
 * heart-beating becomes failed/worker_lost, a link no worker claimed in time failed/launch_failed,
 * and either becomes expired/deadline once past its deadline. Each write is conditional on the
 * version and the heartbeat read, so a worker that writes or heart-beats meanwhile wins. The
 * scheduled sweeper runs it once a minute; every warm host runs it every few seconds with `adopt`,
 * so a link whose host died is taken over (or ended) within seconds. Many sweepers at once are safe.
 */
export async function sweepStaleLinks(store: LinkStore, options: SweepOptions = {}): Promise<SweepResult> {
  const now = options.now ?? new Date()
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS
  const launchGraceMs = options.launchGraceMs ?? DEFAULT_LAUNCH_GRACE_MS
  const adoptAfterMs = options.adopt ? Math.min(options.adoptAfterMs ?? UNCLAIMED_ADOPT_MS, staleAfterMs) : staleAfterMs
  const result: SweepResult = { lost: 0, expired: 0, adopted: 0 }
  const quietSince = new Date(now.getTime() - adoptAfterMs)

  const settle = async (link: Link, neverClaimed: boolean) => {
    if (now.getTime() >= Date.parse(link.expiresAt)) {
      if (await endAbandoned(store, link, DEADLINE_ERROR)) {
        result.expired++
        options.logger?.warn({ linkId: link.id, status: link.status, code: 'deadline' }, 'swept a link whose worker is gone')
      }
      return
    }
    const quietMs = now.getTime() - Date.parse(link.heartbeatAt ?? link.createdAt)
    // Nobody holds it (never claimed, or handed over), or its holder went quiet: a peer may take it.
    const unheld = neverClaimed || link.workerId === null
    if (options.adopt && (unheld || quietMs >= staleAfterMs) && planJob(link, now.getTime()).kind === 'link' && (await options.adopt(link))) {
      result.adopted++
      return
    }
    if (neverClaimed ? now.getTime() - Date.parse(link.createdAt) < launchGraceMs : quietMs < staleAfterMs) return
    const error = neverClaimed ? linkEnding('launch_failed', `No worker claimed the link within ${Math.round(launchGraceMs / 1000)} s.`) : linkEnding('worker_lost')
    if (await endAbandoned(store, link, error)) {
      result.lost++
      options.logger?.warn({ linkId: link.id, status: link.status, code: error.code }, 'swept a link whose worker is gone')
    }
  }

  for await (const link of store.quietSince(quietSince)) await settle(link, false)
  for await (const link of store.unclaimedSince(quietSince)) await settle(link, true)
  return result
}

/**
 * Ends a link no worker will finish, conditional on the version and heartbeat read (a worker that
 * wrote or heart-beat meanwhile wins), and erases its credentials, since no worker is left to. True
 * when this call ended it.
 */
export async function endAbandoned(store: LinkStore, link: Link, error: LinkError): Promise<boolean> {
  try {
    await store.update(link.id, {
      from: IN_PROGRESS_STATUSES,
      to: endingStatus(error.code),
      version: link.version,
      // Heartbeats do not move the version: a worker that heart-beat since the read wins too.
      heartbeatAt: link.heartbeatAt,
      patch: { qr: null, pairingCode: null, error },
    })
  } catch (error) {
    if (error instanceof StaleLinkError) return false
    throw error
  }
  await store.eraseCredentials(link.id)
  return true
}

export interface LogoutRetryDeps {
  store: Pick<LinkStore, 'get' | 'update' | 'eraseCredentials'>
  requests: Pick<LogoutRequests, 'get' | 'recordAttempt' | 'done'>
  /** Sends the logout to a worker again (a host's own adoption, or the dispatcher). */
  dispatch(linkId: string): Promise<unknown>
  logger?: Logger
}

export interface LogoutRetryOptions {
  now?: number
  /** Dispatches before giving up (the API's first one included). */
  maxAttempts?: number
  /** A dispatched logout not claimed (or whose worker went quiet) for this long is sent again. */
  retryAfterMs?: number
  /** Retry now, whatever the time since the last attempt (its worker is known to be dead). */
  force?: boolean
}

export const MAX_LOGOUT_ATTEMPTS = 3
export const LOGOUT_RETRY_AFTER_MS = 60_000

export type LogoutRetry = 'none' | 'done' | 'running' | 'waiting' | 'dispatched' | 'given_up' | 'raced'

/**
 * One step for an unfinished logout: nothing while a live worker runs it; dispatch it again once its
 * worker is gone; after `maxAttempts` dispatches, erase the credentials anyway and end the link
 * `unlinked` with `logout_unconfirmed` (the tenant asked for them gone).
 */
export async function retryLogout(deps: LogoutRetryDeps, linkId: string, options: LogoutRetryOptions = {}): Promise<LogoutRetry> {
  const now = options.now ?? Date.now()
  const request = await deps.requests.get(linkId)
  if (!request) return 'none'
  const link = await deps.store.get(linkId)
  if (!link || link.status !== 'linked') {
    await deps.requests.done(linkId)
    return 'done'
  }
  if (heldByLiveWorker(link, now)) return 'running'
  if (!options.force && now - request.lastAttemptAt < (options.retryAfterMs ?? LOGOUT_RETRY_AFTER_MS)) return 'waiting'
  if (request.attempts >= (options.maxAttempts ?? MAX_LOGOUT_ATTEMPTS)) {
    // Erased first: if this process dies before the write, the next sweep finishes the job.
    await deps.store.eraseCredentials(linkId)
    try {
      const error = linkEnding('logout_unconfirmed', `No worker finished the logout after ${request.attempts} attempts.`)
      await deps.store.update(linkId, { from: ['linked'], to: endingStatus(error.code), version: link.version, patch: { error } })
    } catch (error) {
      if (!(error instanceof StaleLinkError)) throw error
      return 'raced'
    }
    await deps.requests.done(linkId)
    deps.logger?.warn({ linkId, attempts: request.attempts }, 'logout given up: credentials erased, unlinked unconfirmed')
    return 'given_up'
  }
  if (!(await deps.requests.recordAttempt(request, now))) return 'raced'
  deps.logger?.warn({ linkId, attempt: request.attempts + 1 }, 'logout did not finish: dispatching it again')
  await deps.dispatch(linkId)
  return 'dispatched'
}

/** Every unfinished logout, one retryLogout step each. */
export async function sweepLogouts(deps: LogoutRetryDeps & { requests: Pick<LogoutRequests, 'pending'> }, options: Omit<LogoutRetryOptions, 'force'> = {}): Promise<Partial<Record<LogoutRetry, number>>> {
  const counts: Partial<Record<LogoutRetry, number>> = {}
  for await (const linkId of deps.requests.pending()) {
    let outcome: LogoutRetry
    try {
      outcome = await retryLogout(deps, linkId, options)
    } catch (err) {
      // One logout that cannot be sent (no task could be started) must not stop the others; it is counted and retried.
      deps.logger?.warn({ err, linkId }, 'could not send a logout again; the next sweep retries')
      outcome = 'raced'
    }
    counts[outcome] = (counts[outcome] ?? 0) + 1
  }
  return counts
}
