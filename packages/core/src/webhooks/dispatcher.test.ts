import { describe, expect, it } from 'vitest'
import { createLogger } from '../logger.ts'
import { WebhookDispatcher } from './dispatcher.ts'
import type { WebhookEventStore } from './event-store.ts'

/**
 * How `processLinks` spreads a run over links (the delivery function's and the retry sweep's way):
 * the queues themselves are the DynamoDB-backed suite's (test/core/webhook-dispatcher.test.ts), so
 * here `processLink` is replaced and only the run's shape is observed.
 */

const silent = createLogger({ name: 'test', level: 'silent' })
const ids = (n: number) => Array.from({ length: n }, (_, i) => `lnk_${i}`)

class ObservedDispatcher extends WebhookDispatcher {
  running = 0
  peak = 0
  readonly deadlines = new Set<number>()
  readonly seen: string[] = []

  constructor(
    concurrency: number,
    budgetMs: number,
    private readonly work: (linkId: string) => Promise<void>,
  ) {
    super({ store: {} as WebhookEventStore, deliver: async () => ({ httpStatus: 200 }), logger: silent, concurrency, budgetMs })
  }

  override async processLink(linkId: string, deadline?: number): Promise<void> {
    this.deadlines.add(deadline!)
    this.running++
    this.peak = Math.max(this.peak, this.running)
    try {
      this.seen.push(linkId)
      await this.work(linkId)
    } finally {
      this.running--
    }
  }
}

const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

describe('WebhookDispatcher.processLinks', () => {
  it('serves every link, at most `concurrency` at once, all under one deadline; a failing link does not stop the rest', async () => {
    const list = ids(7)
    const dispatcher = new ObservedDispatcher(3, 40_000, async (linkId) => {
      await wait(5)
      if (linkId === list[1]) throw new Error('table unavailable')
    })
    expect(await dispatcher.processLinks(list)).toBe(7)
    expect([...dispatcher.seen].sort()).toEqual([...list].sort())
    expect(dispatcher.peak).toBe(3)
    expect(dispatcher.deadlines.size).toBe(1)
  })

  it('takes up no link once the budget is spent', async () => {
    const dispatcher = new ObservedDispatcher(1, 10, () => wait(30))
    expect(await dispatcher.processLinks(ids(5))).toBe(1)
    expect(dispatcher.seen).toHaveLength(1)
  })
})
