import { beforeAll, describe, expect, it } from 'vitest'
import { newLinkId, type Link } from '@wa-link-broker/core/link'
import { createLogger } from '@wa-link-broker/core/logger'
import { activityShard } from '@wa-link-broker/core/store'
import { DEFAULT_LEASE_MS, linkEventsFromChange, WebhookDispatcher, WebhookEventStore, type AttemptResult, type LinkEvent, type StoredEvent } from '@wa-link-broker/core/webhooks'
import { LogCapture } from '../support/api.ts'
import { createTestTable } from '../support/store.ts'

/**
 * The dispatcher's rules against the real table (DynamoDB Local): order per link, the stored retry
 * schedule, giving up, 410, redelivery, one dispatcher per link. The receiver here is a script of
 * answers; real HTTP and signatures are the end-to-end suite's.
 */

let store: WebhookEventStore
const logs = new LogCapture()
const logger = createLogger({ level: 'debug' }, logs)

beforeAll(async () => {
  const { doc, tableName } = await createTestTable('hooks')
  store = new WebhookEventStore(doc, tableName)
})

/** A link's events as the stream would make them: one per version. */
function eventsOf(count: number): LinkEvent[] {
  const id = newLinkId()
  const link: Link = {
    id, tenantId: 'acme', status: 'awaiting_scan', method: 'qr', phoneNumber: null, qr: null, pairingCode: null, account: null, error: null,
    metadata: {}, webhookUrl: 'https://hooks.example.com/x', createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 300_000).toISOString(), version: 2, leaseToken: 1, heartbeatAt: null, clientTokenHashes: [],
  }
  const item = (l: Link) => ({ pk: `LINK#${l.id}`, sk: 'LINK', ...l, metadata: '{}' })
  const out: LinkEvent[] = []
  let before: Link = { ...link, status: 'starting' }
  for (let i = 0; i < count; i++) {
    const after: Link = { ...before, status: 'awaiting_scan', version: before.version + 1, qr: { value: `q${i}`, sequence: i + 1, expiresAt: link.expiresAt } }
    out.push(...linkEventsFromChange({ eventName: 'MODIFY', keys: { pk: `LINK#${id}`, sk: 'LINK' }, oldImage: item(before), newImage: item(after) }))
    before = after
  }
  return out
}

/** A scripted receiver: answers in turn (the last answer repeats), recording what it was sent. */
function receiver(...answers: AttemptResult[]) {
  const sent: StoredEvent[] = []
  return {
    sent,
    deliver: async (event: StoredEvent) => {
      sent.push(event)
      return answers[Math.min(sent.length - 1, answers.length - 1)]
    },
  }
}

async function recordAll(events: LinkEvent[]) {
  for (const event of events) await store.record(event, new Date())
}

const ok = { httpStatus: 200 }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** `work`, failing the test if it has not ended within `ms` (a dispatcher that spins never would). */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms)))
  try {
    return await Promise.race([work, late])
  } finally {
    clearTimeout(timer)
  }
}

describe('webhook dispatcher', () => {
  it('records an event once however often its stream record is replayed', async () => {
    const [event] = eventsOf(1)
    expect(await store.record(event, new Date())).toBe(true)
    expect(await store.record(event, new Date())).toBe(false)
    expect(await store.list(event.linkId)).toHaveLength(1)
    const r = receiver(ok)
    await new WebhookDispatcher({ store, deliver: r.deliver, logger }).processLink(event.linkId)
    expect(r.sent.map((e) => e.id)).toEqual([event.id])
  })

  it('delivers a link’s events in order and takes its queue out of the due index', async () => {
    const events = eventsOf(3)
    await recordAll(events)
    const r = receiver(ok)
    const dispatcher = new WebhookDispatcher({ store, deliver: r.deliver, logger })
    await dispatcher.processLink(events[0].linkId)
    expect(r.sent.map((e) => e.id)).toEqual(events.map((e) => e.id))
    const stored = await store.list(events[0].linkId)
    expect(stored.map((e) => [e.state, e.attempts, e.lastHttpStatus])).toEqual(events.map(() => ['delivered', 1, 200]))
    expect(await store.dueLinks(new Date(Date.now() + 48 * 3600_000))).not.toContain(events[0].linkId)
  })

  it('a failing event holds back the ones after it until its retry succeeds, on the stored schedule', async () => {
    const events = eventsOf(3)
    await recordAll(events)
    let clock = Date.now()
    const r = receiver({ httpStatus: 500 }, { error: 'timeout' }, ok)
    const dispatcher = new WebhookDispatcher({ store, deliver: r.deliver, logger, schedule: [0, 1000, 5000], now: () => new Date(clock) })
    const linkId = events[0].linkId

    await dispatcher.processLink(linkId)
    expect(r.sent.map((e) => e.id)).toEqual([events[0].id])
    let [head, second] = await store.list(linkId)
    expect(head).toMatchObject({ state: 'pending', attempts: 1, lastHttpStatus: 500, lastError: 'http_error', nextAttemptAt: new Date(clock + 1000).toISOString() })
    expect(second).toMatchObject({ state: 'pending', attempts: 0 })

    // Not due yet: nothing is sent, and the queue is found only once it is due.
    await dispatcher.processLink(linkId)
    expect(r.sent).toHaveLength(1)
    const dueAt = (t: number) => store.dueLinks(new Date(t))
    expect(await dueAt(clock + 999)).not.toContain(linkId)
    expect(await dueAt(clock + 1000)).toContain(linkId)

    clock += 1000
    expect(await dispatcher.processDue()).toBeGreaterThanOrEqual(1)
    ;[head] = await store.list(linkId)
    expect(head).toMatchObject({ state: 'pending', attempts: 2, lastHttpStatus: null, lastError: 'timeout', nextAttemptAt: new Date(clock + 5000).toISOString() })

    clock += 5000
    await dispatcher.processDue()
    expect(r.sent.map((e) => e.id)).toEqual([events[0].id, events[0].id, events[0].id, events[1].id, events[2].id])
    const stored = await store.list(linkId)
    expect(stored.map((e) => [e.state, e.attempts])).toEqual([['delivered', 3], ['delivered', 1], ['delivered', 1]])
  })

  it('gives an event up once the schedule is used up, then goes on with the next', async () => {
    const events = eventsOf(2)
    await recordAll(events)
    let clock = Date.now()
    const r = receiver({ httpStatus: 503 }, { httpStatus: 503 }, ok)
    const dispatcher = new WebhookDispatcher({ store, deliver: r.deliver, logger, schedule: [0, 10], now: () => new Date(clock) })
    await dispatcher.processLink(events[0].linkId)
    clock += 10
    await dispatcher.processLink(events[0].linkId)
    const stored = await store.list(events[0].linkId)
    expect(stored[0]).toMatchObject({ state: 'failed', attempts: 2, lastHttpStatus: 503, nextAttemptAt: null })
    expect(stored[1]).toMatchObject({ state: 'delivered', attempts: 1 })
  })

  it('410 Gone stops the link’s deliveries; a redelivery resumes them', async () => {
    const events = eventsOf(3)
    await recordAll(events.slice(0, 2))
    const r = receiver({ httpStatus: 410 }, ok)
    const dispatcher = new WebhookDispatcher({ store, deliver: r.deliver, logger })
    const linkId = events[0].linkId
    await dispatcher.processLink(linkId)
    expect(r.sent).toHaveLength(1)
    let stored = await store.list(linkId)
    expect(stored.map((e) => [e.state, e.attempts, e.lastError])).toEqual([['failed', 1, 'gone'], ['failed', 0, 'gone']])

    // A later event of the link is recorded, and not sent.
    await store.record(events[2], new Date())
    await dispatcher.processLink(linkId)
    expect(r.sent).toHaveLength(1)
    expect((await store.list(linkId))[2]).toMatchObject({ state: 'failed', attempts: 0, lastError: 'gone' })

    await store.redeliver((await store.list(linkId))[1], new Date())
    await dispatcher.processLink(linkId)
    expect(r.sent.map((e) => e.id)).toEqual([events[0].id, events[1].id])
    stored = await store.list(linkId)
    expect(stored[1]).toMatchObject({ state: 'delivered', attempts: 1, lastHttpStatus: 200 })
    // Redelivering a delivered event sends it again.
    await store.redeliver(stored[1], new Date())
    await dispatcher.processLink(linkId)
    expect(r.sent.map((e) => e.id)).toEqual([events[0].id, events[1].id, events[1].id])
    expect((await store.list(linkId))[1]).toMatchObject({ state: 'delivered', attempts: 2 })
  })

  it('one dispatcher at a time per link: concurrent runs send each event once', async () => {
    const events = eventsOf(4)
    await recordAll(events)
    const r = receiver(ok)
    const slow = async (event: StoredEvent) => {
      await new Promise((resolve) => setTimeout(resolve, 30))
      return r.deliver(event)
    }
    const a = new WebhookDispatcher({ store, deliver: slow, logger })
    const b = new WebhookDispatcher({ store, deliver: slow, logger })
    await Promise.all([a.processLink(events[0].linkId), b.processLink(events[0].linkId), a.processLink(events[0].linkId)])
    expect(r.sent.map((e) => e.id)).toEqual(events.map((e) => e.id))
  })

  it('a queue whose holder died is served once its lease runs out', async () => {
    const events = eventsOf(1)
    await recordAll(events)
    const linkId = events[0].linkId
    expect(await store.lock(linkId, 'a-process-that-was-killed', new Date(), 300)).not.toBeNull()
    const r = receiver(ok)
    const dispatcher = new WebhookDispatcher({ store, deliver: r.deliver, logger })
    await dispatcher.processLink(linkId)
    expect(r.sent).toHaveLength(0)
    await new Promise((resolve) => setTimeout(resolve, 350))
    await dispatcher.processLink(linkId)
    expect(r.sent.map((e) => e.id)).toEqual([events[0].id])
  })

  it('an event recorded while the queue is being served is not stranded', async () => {
    const events = eventsOf(2)
    await store.record(events[0], new Date())
    const r = receiver(ok)
    let recordedLate = false
    const dispatcher = new WebhookDispatcher({
      store,
      logger,
      deliver: async (event) => {
        // The stream records the next event while this attempt is in flight; its own processLink
        // finds the queue taken and returns at once.
        if (!recordedLate) {
          recordedLate = true
          await store.record(events[1], new Date())
          await dispatcher.processLink(events[0].linkId)
        }
        return r.deliver(event)
      },
    })
    await dispatcher.processLink(events[0].linkId)
    expect(r.sent.map((e) => e.id)).toEqual(events.map((e) => e.id))
  })

  it('a holder whose lease another dispatcher took stops at once: no second send, no spinning, a warning naming the link', async () => {
    // The holder stalls past its lease during an attempt (the clock jumps, as after a frozen Lambda)
    // and another dispatcher takes the queue. Either during the last event's attempt (the release
    // finds out) or before the next event (the renewal does), the holder leaves the link to it.
    for (const count of [1, 2]) {
      const events = eventsOf(count)
      await recordAll(events)
      const linkId = events[0].linkId
      let clock = Date.now()
      let taken = false
      const r = receiver(ok)
      const dispatcher = new WebhookDispatcher({
        store,
        logger,
        now: () => new Date(clock),
        deliver: async (event) => {
          clock += DEFAULT_LEASE_MS + 1000
          taken = (await store.lock(linkId, 'the-next-holder', new Date(clock), DEFAULT_LEASE_MS)) !== null
          return r.deliver(event)
        },
      })
      await within(3000, dispatcher.processLink(linkId))
      expect(taken).toBe(true)
      expect(r.sent.map((e) => e.id)).toEqual([events[0].id])
      // Still the other one's: the holder neither released nor renewed it.
      expect(await store.renew(linkId, 'the-next-holder', new Date(clock), DEFAULT_LEASE_MS)).toBe(true)
      expect(logs.lines.filter((line) => line.includes('lost the lease') && line.includes(linkId))).toHaveLength(1)
      expect(logs.lines.find((line) => line.includes('lost the lease') && line.includes(linkId))).toContain('"level":40')
    }
  })

  it('the lease always covers the attempt under way: renewed before an attempt when less than its worst case is left', async () => {
    // Lease 2 s; an attempt takes at most 1.5 s, plus 0.2 s for its writes. The first attempt takes
    // 0.7 s, so the second starts with ~1.3 s of lease left (< 1.7 s): it must renew first, and
    // nobody can take the queue while that attempt (1.4 s) runs past the first lease.
    const events = eventsOf(2)
    await recordAll(events)
    const linkId = events[0].linkId
    let firstCall = 0
    let intruder: unknown = 'not tried'
    const r = receiver(ok)
    const dispatcher = new WebhookDispatcher({
      store,
      logger,
      leaseMs: 2000,
      attemptTimeoutMs: 1500,
      writesMarginMs: 200,
      deliver: async (event) => {
        if (!firstCall) {
          firstCall = Date.now()
          await sleep(700)
        } else {
          await sleep(firstCall + 2100 - Date.now())
          intruder = await store.lock(linkId, 'an-intruder', new Date(), 2000)
          if (intruder) await store.unlock(linkId, 'an-intruder')
        }
        return r.deliver(event)
      },
    })
    await within(5000, dispatcher.processLink(linkId))
    expect(intruder).toBeNull()
    expect(r.sent.map((e) => e.id)).toEqual(events.map((e) => e.id))
    expect(() => new WebhookDispatcher({ store, logger, deliver: r.deliver, leaseMs: 15_000 })).toThrow(/leaseMs/)
  })

  it('a redelivery of the event under way wins over the 410 that answers it: the event is sent again and the link is not gone', async () => {
    const events = eventsOf(2)
    await recordAll(events)
    const linkId = events[0].linkId
    const r = receiver(ok)
    let raced = false
    const dispatcher = new WebhookDispatcher({
      store,
      logger,
      deliver: async (event) => {
        if (!raced) {
          raced = true
          // The tenant redelivers this very event while the receiver is answering 410.
          await store.redeliver((await store.find(linkId, event.id))!, new Date())
          r.sent.push(event)
          return { httpStatus: 410 }
        }
        return r.deliver(event)
      },
    })
    await within(5000, dispatcher.processLink(linkId))
    expect(r.sent.map((e) => e.id)).toEqual([events[0].id, events[0].id, events[1].id])
    expect((await store.list(linkId)).map((e) => e.state)).toEqual(['delivered', 'delivered'])
    expect(await store.queue(linkId)).toMatchObject({ gone: false })
  })

  it('a redelivery of an earlier event during an attempt answered 410 is delivered, and the link goes on', async () => {
    const events = eventsOf(3)
    await recordAll(events.slice(0, 2))
    const linkId = events[0].linkId
    const r = receiver({ httpStatus: 500 }, ok)
    let raced = false
    const dispatcher = new WebhookDispatcher({
      store,
      logger,
      schedule: [0], // one attempt: the first event fails at its first 500
      deliver: async (event) => {
        if (event.id === events[1].id && !raced) {
          raced = true
          // The receiver says 410 to the second event, after the tenant redelivered the first one.
          await store.redeliver((await store.find(linkId, events[0].id))!, new Date())
          return { httpStatus: 410 }
        }
        return r.deliver(event)
      },
    })
    await within(5000, dispatcher.processLink(linkId))
    let stored = await store.list(linkId)
    expect(stored.map((e) => [e.state, e.lastError])).toEqual([['delivered', null], ['failed', 'gone']])
    expect(await store.queue(linkId)).toMatchObject({ gone: false })
    // Not gone: the link's next event is sent.
    await store.record(events[2], new Date())
    await within(5000, dispatcher.processLink(linkId))
    stored = await store.list(linkId)
    expect(stored[2]).toMatchObject({ state: 'delivered' })
    expect(r.sent.map((e) => e.id)).toEqual([events[0].id, events[0].id, events[2].id])
  })

  it('retry sweeps are fair and bounded: the longest due first across shards, at most sweepLimit read, none starves', async () => {
    // A table of its own, so only these links are due. Each link's receiver keeps failing, so a
    // served link is due again by the next sweep: a sweep that did not take the longest due first
    // would serve the same links every time.
    const { doc, tableName } = await createTestTable('sweep')
    const sweepStore = new WebhookEventStore(doc, tableName)
    const base = Date.now()
    const links: string[] = []
    for (let i = 0; i < 24; i++) {
      const [event] = eventsOf(1)
      await sweepStore.record(event, new Date(base + i * 10))
      links.push(event.linkId)
    }
    expect(new Set(links.map(activityShard)).size).toBeGreaterThan(4)
    let clock = base + 1000
    const served: string[] = []
    const dispatcher = new WebhookDispatcher({
      store: sweepStore,
      logger,
      now: () => new Date(clock),
      schedule: Array.from({ length: 20 }, (_, i) => (i ? 1000 : 0)),
      concurrency: 1,
      budgetMs: 300,
      sweepLimit: 6,
      deliver: async (event) => {
        served.push(event.linkId)
        await sleep(60)
        return { httpStatus: 500 }
      },
    })
    let sweeps = 0
    while (new Set(served).size < links.length && sweeps < 24) {
      expect(await dispatcher.processDue()).toBeLessThanOrEqual(6)
      sweeps++
      clock += 1000
    }
    // Every sweep left some due links over, yet each was served, in the order they fell due.
    expect(sweeps).toBeGreaterThan(4)
    expect([...new Set(served)]).toEqual(links)
  })

  it('logs ids, types and statuses, never the body or the URL', () => {
    const text = logs.text
    expect(text).toContain('webhook attempt')
    expect(text).toContain('"eventId":"evt_')
    expect(text).not.toContain('hooks.example.com')
    expect(text).not.toMatch(/"value":"q\d/)
  })
})
