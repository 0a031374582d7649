import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { DeliveryError, EventOutcome, StoredEvent, WebhookEventStore } from './event-store.ts'
import { DEFAULT_RETRY_SCHEDULE, nextAttemptAfter, type RetrySchedule } from './schedule.ts'

/** What one HTTP attempt came to: the receiver's status, or why there was none. */
export type AttemptResult = { httpStatus: number } | { error: Exclude<DeliveryError, 'http_error' | 'gone'> }

/** Sends one event once: the HTTP edge (body, signatures, the request and its timeout). */
export type DeliverEvent = (event: StoredEvent) => Promise<AttemptResult>

export interface DispatcherOptions {
  store: WebhookEventStore
  deliver: DeliverEvent
  logger: Logger
  schedule?: RetrySchedule
  /**
   * How long a link's queue stays taken without word from its holder: the holder renews it before
   * an attempt once half of it has passed. After a crash, the link waits this long at most.
   */
  leaseMs?: number
  /**
   * A run (one link's, or a sweep of every due link) starts no attempt after this long, so a Lambda
   * invocation ends within budget + one attempt's timeout; what is left stays due for the next run.
   */
  budgetMs?: number
  /** Links served at once by `processDue`. */
  concurrency?: number
  now?: () => Date
}

/** An attempt takes at most 10 s (the delivery timeout); the lease outlasts it with room for the writes around it. */
export const DEFAULT_LEASE_MS = 30_000
export const DEFAULT_BUDGET_MS = 40_000

/**
 * Delivers each link's events in order: the next event of a link waits until the one before it
 * is delivered or given up. A failed attempt is retried on the schedule stored with the event;
 * `410 Gone` ends the link's deliveries. Links are served one dispatcher at a time (a lease on
 * the link's queue), so two drivers (the stream's and the retry timer's) never reorder them.
 */
export class WebhookDispatcher {
  private readonly schedule: RetrySchedule
  private readonly leaseMs: number
  private readonly budgetMs: number
  private readonly concurrency: number
  private readonly now: () => Date
  private readonly inflight = new Set<Promise<void>>()
  private sweeping: Promise<number> | null = null
  private stopping = false

  constructor(private readonly options: DispatcherOptions) {
    this.schedule = options.schedule ?? DEFAULT_RETRY_SCHEDULE
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS
    this.budgetMs = options.budgetMs ?? DEFAULT_BUDGET_MS
    this.concurrency = options.concurrency ?? 16
    this.now = options.now ?? (() => new Date())
  }

  /** Serves one link's queue now, if no other dispatcher is serving it. */
  async processLink(linkId: string, deadline = Date.now() + this.budgetMs): Promise<void> {
    if (this.stopping || Date.now() > deadline) return
    const { store } = this.options
    const owner = randomUUID()
    let queue = await store.lock(linkId, owner, this.now(), this.leaseMs)
    if (!queue) return
    const run = { owner, deadline, renewed: Date.now() }
    try {
      for (;;) {
        const due = await this.serve(linkId, run, queue.gone)
        if (await store.release(linkId, owner, queue.seq, due)) return
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

  /** Every link whose queue is due, found through the index (never a scan). One sweep at a time. */
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

  private async sweep(): Promise<number> {
    const deadline = Date.now() + this.budgetMs
    const links = [...new Set(await this.options.store.dueLinks(this.now()))]
    let next = 0
    const worker = async () => {
      while (next < links.length && Date.now() <= deadline) {
        const linkId = links[next++]
        await this.processLink(linkId, deadline).catch((error) => this.options.logger.warn({ err: error, linkId }, 'webhook dispatch failed'))
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.concurrency, links.length) }, worker))
    return links.length
  }

  /** Works through the link's pending events in order; returns when the queue is next due (null: nothing waits). */
  private async serve(linkId: string, run: { owner: string; deadline: number; renewed: number }, gone: boolean): Promise<Date | null> {
    const { store } = this.options
    for (const event of await store.list(linkId, { pendingOnly: true })) {
      const now = this.now()
      if (gone) {
        await store.settle(event, { ...unchanged(event), state: 'failed', lastError: 'gone', nextAttemptAt: null })
        continue
      }
      const due = new Date(event.nextAttemptAt ?? now)
      if (due > now) return due
      if (this.stopping || Date.now() > run.deadline) return now
      if (Date.now() - run.renewed > this.leaseMs / 2) {
        if (!(await store.renew(linkId, run.owner, now, this.leaseMs))) throw new Error('lost the lease on a webhook queue')
        run.renewed = Date.now()
      }
      const outcome = await this.attempt(event)
      if (!outcome) return now // someone else settled it: look again
      if (outcome.state === 'pending') return new Date(outcome.nextAttemptAt!)
      if (outcome.lastError === 'gone') {
        gone = true
        await store.markGone(linkId, run.owner)
      }
    }
    return null
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
