import { beforeAll, describe, expect, it } from 'vitest'
import { newLinkId, type Link } from '@wa-link-broker/core/link'
import { createLogger } from '@wa-link-broker/core/logger'
import { linkEventsFromChange, WebhookDispatcher, WebhookEventStore, type AttemptResult, type LinkEvent, type StoredEvent } from '@wa-link-broker/core/webhooks'
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

  it('logs ids, types and statuses, never the body or the URL', () => {
    const text = logs.text
    expect(text).toContain('webhook attempt')
    expect(text).toContain('"eventId":"evt_')
    expect(text).not.toContain('hooks.example.com')
    expect(text).not.toMatch(/"value":"q\d/)
  })
})
