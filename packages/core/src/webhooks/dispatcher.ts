import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { DeliveryError, EventOutcome, QueueState, StoredEvent, WebhookEventStore } from './event-store.ts'
import { DEFAULT_RETRY_SCHEDULE, nextAttemptAfter, type RetrySchedule } from './schedule.ts'

/** What one HTTP attempt came to: the receiver's status, or why there was none. */
export type AttemptResult = { httpStatus: number } | { error: Exclude<DeliveryError, 'http_error' | 'gone'> }

/**
 * Sends one event once: the HTTP edge (body, signatures, the request and its timeout). It must
 * return within its timeout (`attemptTimeoutMs`) whatever the receiver does: the lease counts on it.
 */
export type DeliverEvent = (event: StoredEvent) => Promise<AttemptResult>

/** A receiver that has not answered within this long has failed the attempt (the contract's 10 s). */
export const DELIVERY_TIMEOUT_MS = 10_000
/** Room, beyond the request, for the writes that follow an attempt (settle, 410, release), SDK retries included. */
export const DEFAULT_WRITES_MARGIN_MS = 5_000

export interface DispatcherOptions {
  store: WebhookEventStore
  deliver: DeliverEvent
  logger: Logger
  schedule?: RetrySchedule
  /**
   * How long a link's queue stays taken without word from its holder. After a crash, the link
   * waits this long at most. Must outlast one attempt (`attemptTimeoutMs + writesMarginMs`).
   */
  leaseMs?: number
  /** The most one `deliver` call takes: the sender's timeout (DELIVERY_TIMEOUT_MS unless it was given another). */
  attemptTimeoutMs?: number
  /** Time kept for the writes after an attempt (DEFAULT_WRITES_MARGIN_MS). */
  writesMarginMs?: number
  /**
   * A run (one link's, or a sweep of every due link) starts no attempt after this long, so a Lambda
   * invocation ends within budget + one attempt's timeout; what is left stays due for the next run.
   */
  budgetMs?: number
  /** Links served at once by `processDue`. */
  concurrency?: number
  /**
   * Due links read by one sweep, the longest due first; the rest wait for the next sweep. Default:
   * a link a second per worker for the whole budget, more than a sweep usually gets through.
   */
  sweepLimit?: number
  now?: () => Date
}

/** 30 s: twice an attempt's worst case (10 s + 5 s of writes), so a holder renews about every other attempt. */
export const DEFAULT_LEASE_MS = 30_000
export const DEFAULT_BUDGET_MS = 40_000

/** One hold of a link's queue: who holds it, until when (by the lease's clock, `now`), and the run's deadline. */
interface Hold {
  linkId: string
  owner: string
  deadline: number
  leaseUntil: number
}

/** What serving a queue came to: when it is next due (null: nothing waits), or the lease was lost. */
type Served = Date | null | 'lost'

/**
 * Delivers each link's events in order: the next event of a link waits until the one before it
 * is delivered or given up. A failed attempt is retried on the schedule stored with the event;
 * `410 Gone` ends the link's deliveries (unless a redelivery came during that attempt). Links are
 * served one dispatcher at a time (a lease on the link's queue, always long enough for the attempt
 * under way), so two drivers (the stream's and the retry timer's) never reorder them.
 */
export class WebhookDispatcher {
  private readonly schedule: RetrySchedule
  private readonly leaseMs: number
  private readonly writesMarginMs: number
  private readonly attemptWorstMs: number
  private readonly budgetMs: number
  private readonly concurrency: number
  private readonly sweepLimit: number
  private readonly now: () => Date
  private readonly inflight = new Set<Promise<void>>()
  private sweeping: Promise<number> | null = null
  private stopping = false

  constructor(private readonly options: DispatcherOptions) {
    this.schedule = options.schedule ?? DEFAULT_RETRY_SCHEDULE
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS
    this.writesMarginMs = options.writesMarginMs ?? DEFAULT_WRITES_MARGIN_MS
    this.attemptWorstMs = (options.attemptTimeoutMs ?? DELIVERY_TIMEOUT_MS) + this.writesMarginMs
    // A renewed lease must cover a whole attempt, or an attempt could run on after another dispatcher took the link.
    if (this.leaseMs <= this.attemptWorstMs) throw new RangeError(`leaseMs (${this.leaseMs}) must be longer than one attempt's worst case (${this.attemptWorstMs} ms)`)
    this.budgetMs = options.budgetMs ?? DEFAULT_BUDGET_MS
    this.concurrency = options.concurrency ?? 16
    this.sweepLimit = options.sweepLimit ?? this.concurrency * Math.ceil(this.budgetMs / 1000)
    this.now = options.now ?? (() => new Date())
  }

  /** Serves one link's queue now, if no other dispatcher is serving it. */
  async processLink(linkId: string, deadline = Date.now() + this.budgetMs): Promise<void> {
    if (this.stopping || Date.now() > deadline) return
    const { store } = this.options
    const owner = randomUUID()
    const takenAt = this.now()
    let queue = await store.lock(linkId, owner, takenAt, this.leaseMs)
    if (!queue) return
    const hold: Hold = { linkId, owner, deadline, leaseUntil: takenAt.getTime() + this.leaseMs }
    try {
      for (;;) {
        const served = await this.serve(hold, queue)
        const released = served === 'lost' ? 'lost' : await store.release(linkId, owner, queue.seq, served)
        if (released === 'released') return
        if (released === 'lost') return this.lostLease(linkId)
        // Work was enqueued meanwhile (a new event, a redelivery): look again while still holding the lease.
        queue = (await store.queue(linkId)) ?? queue
      }
    } catch (error) {
      await store.unlock(linkId, owner).catch(() => undefined)
      throw error
    }
  }

  /** Starts serving a link without waiting for it (the local stream reader's way); `drain` waits. */
  serveSoon(linkId: string): void {
    const run = this.processLink(linkId)
      .catch((error) => this.options.logger.warn({ err: error, linkId }, 'webhook dispatch failed'))
      .finally(() => this.inflight.delete(run))
    this.inflight.add(run)
  }

  /** The links whose queue is due, the longest due first, found through the index (never a scan). One sweep at a time. */
  processDue(): Promise<number> {
    if (this.stopping) return Promise.resolve(0)
    this.sweeping ??= this.sweep().finally(() => (this.sweeping = null))
    return this.sweeping
  }

  /** Starts no attempt from now on; queues left are due at once for the next process. */
  stop(): void {
    this.stopping = true
  }

  /** Waits for everything started with `serveSoon` and any sweep in progress. */
  async drain(): Promise<void> {
    while (this.inflight.size || this.sweeping) await Promise.allSettled([...this.inflight, this.sweeping])
  }

  /**
   * Serves up to `sweepLimit` due links, the longest due first (the index's shards interleaved by
   * due time), so that with a budget too short for all of them the ones left over are the first
   * served next time: none starves behind links that fail again and again.
   */
  private async sweep(): Promise<number> {
    const deadline = Date.now() + this.budgetMs
    const links = await this.options.store.dueLinks(this.now(), this.sweepLimit)
    await this.processLinks(links, deadline)
    return links.length
  }

  /**
   * Serves these links' queues, `concurrency` at a time, all under one deadline: no link is taken up
   * after it (so a run ends within its budget + one attempt); what is left stays due for the next
   * sweep. A link that fails is logged and does not stop the rest. Returns how many were taken up.
   */
  async processLinks(linkIds: readonly string[], deadline = Date.now() + this.budgetMs): Promise<number> {
    let next = 0
    let served = 0
    const worker = async () => {
      while (next < linkIds.length && Date.now() <= deadline) {
        const linkId = linkIds[next++]
        await this.processLink(linkId, deadline).catch((error) => this.options.logger.warn({ err: error, linkId }, 'webhook dispatch failed'))
        served++
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.concurrency, linkIds.length) }, worker))
    return served
  }

  /** Works through the link's pending events in order; returns when the queue is next due (null: nothing waits), or 'lost'. */
  private async serve(hold: Hold, queue: QueueState): Promise<Served> {
    const { store } = this.options
    let gone = queue.gone
    for (const event of await store.list(hold.linkId, { pendingOnly: true })) {
      if (gone) {
        if (!(await this.keepLease(hold, this.writesMarginMs))) return 'lost'
        await store.settle(event, { ...unchanged(event), state: 'failed', lastError: 'gone', nextAttemptAt: null })
        continue
      }
      const now = this.now()
      const due = new Date(event.nextAttemptAt ?? now)
      if (due > now) return due
      // Out of time: left due when it was, so it keeps its place among the due links of the next sweep.
      if (this.stopping || Date.now() > hold.deadline) return due
      if (!(await this.keepLease(hold, this.attemptWorstMs))) return 'lost'
      const outcome = await this.attempt(event)
      if (!outcome) return now // someone else settled it, or it was redelivered meanwhile: look again
      if (outcome.state === 'pending') return new Date(outcome.nextAttemptAt!)
      if (outcome.lastError === 'gone') {
        // Not written when a redelivery landed during the attempt (or the lease is gone): look again.
        if (!(await store.markGone(hold.linkId, hold.owner, queue.kick))) return now
        gone = true
      }
    }
    return null
  }

  /**
   * Makes sure the lease has `needMs` left (by the clock it is kept with), renewing it if not, so
   * what follows never runs past it. False when the lease was lost to another dispatcher.
   */
  private async keepLease(hold: Hold, needMs: number): Promise<boolean> {
    const now = this.now()
    if (hold.leaseUntil - now.getTime() > needMs) return true
    if (!(await this.options.store.renew(hold.linkId, hold.owner, now, this.leaseMs))) return false
    hold.leaseUntil = now.getTime() + this.leaseMs
    return true
  }

  /**
   * The lease ran out and another dispatcher took the queue: it serves the link now, so this one
   * stops at once rather than serve (and send) alongside it.
   */
  private lostLease(linkId: string): void {
    this.options.logger.warn({ linkId }, 'lost the lease on a webhook queue; its new holder serves it')
  }

  private async attempt(event: StoredEvent): Promise<EventOutcome | null> {
    const started = this.now()
    const result = await this.options.deliver(event).catch((error): AttemptResult => {
      this.options.logger.warn({ err: error, eventId: event.id }, 'webhook delivery threw')
      return { error: 'network_error' }
    })
    const attempts = event.attempts + 1
    const attempted = { attempts, lastAttemptAt: started.toISOString() }
    let outcome: EventOutcome
    if ('httpStatus' in result && result.httpStatus >= 200 && result.httpStatus < 300) {
      outcome = { ...attempted, state: 'delivered', lastHttpStatus: result.httpStatus, lastError: null, nextAttemptAt: null, deliveredAt: this.now().toISOString() }
    } else if ('httpStatus' in result && result.httpStatus === 410) {
      outcome = { ...attempted, state: 'failed', lastHttpStatus: 410, lastError: 'gone', nextAttemptAt: null, deliveredAt: event.deliveredAt }
    } else {
      const next = nextAttemptAfter(attempts, started, this.schedule)
      outcome = {
        ...attempted,
        state: next ? 'pending' : 'failed',
        lastHttpStatus: 'httpStatus' in result ? result.httpStatus : null,
        lastError: 'httpStatus' in result ? 'http_error' : result.error,
        nextAttemptAt: next?.toISOString() ?? null,
        deliveredAt: event.deliveredAt,
      }
    }
    // Ids, types, statuses and counts only: the body carries QR values and codes, the URL may carry a token.
    this.options.logger.info(
      { eventId: event.id, linkId: event.linkId, type: event.type, attempt: attempts, httpStatus: outcome.lastHttpStatus, error: outcome.lastError, state: outcome.state },
      'webhook attempt',
    )
    return (await this.options.store.settle(event, outcome)) ? outcome : null
  }
}

function unchanged(event: StoredEvent): EventOutcome {
  const { state, attempts, lastHttpStatus, lastError, lastAttemptAt, nextAttemptAt, deliveredAt } = event
  return { state, attempts, lastHttpStatus, lastError, lastAttemptAt, nextAttemptAt, deliveredAt }
}
