import { beforeAll, describe, expect, it } from 'vitest'
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb'
import { createLogger } from '@wa-link-broker/core/logger'
import type { StreamChange } from '@wa-link-broker/core/webhooks'
import { tableDefinition } from '@wa-link-broker/core/store'
import { CHECKPOINT_TTL_SECONDS, createStreamsClient, DynamoDBStreamReader } from '@wa-link-broker/core/webhooks/stream-reader'
import { LogCapture } from '../support/api.ts'
import { createTestTable } from '../support/store.ts'
import { waitUntil } from '../support/e2e.ts'

/** The local stand-in for Lambda's stream event source, against DynamoDB Local's real stream. */
let table: Awaited<ReturnType<typeof createTestTable>>
const logger = createLogger({ level: 'warn' }, new LogCapture())

beforeAll(async () => {
  table = await createTestTable('stream')
})

const put = (n: number) => table.doc.send(new PutCommand({ TableName: table.tableName, Item: { pk: `X#${n}`, sk: 'X', n } }))
const seen = (changes: StreamChange[]) => changes.filter((c) => String(c.keys.pk).startsWith('X#')).map((c) => c.newImage?.n as number)

function reader(onChanges: (changes: StreamChange[]) => Promise<void>) {
  return new DynamoDBStreamReader({ streams: createStreamsClient({ dynamodbEndpoint: table.endpoint }), doc: table.doc, tableName: table.tableName, logger, idleMs: 20, onChanges })
}

describe('DynamoDB stream reader', () => {
  it('hands over every change in order, and after a restart resumes where it stopped', async () => {
    const first: number[] = []
    const a = reader(async (changes) => void first.push(...seen(changes)))
    await a.start()
    for (const n of [1, 2, 3]) await put(n)
    await waitUntil(() => first.length >= 3, 10_000, 'the first three changes')
    await a.stop()
    expect(first).toEqual([1, 2, 3])

    // Written while no reader runs.
    for (const n of [4, 5]) await put(n)
    const second: number[] = []
    const b = reader(async (changes) => void second.push(...seen(changes)))
    await b.start()
    await put(6)
    await waitUntil(() => second.length >= 3, 10_000, 'the changes made while stopped')
    await b.stop()
    expect(second).toEqual([4, 5, 6])
  })

  it('a batch that fails is read again (at least once)', async () => {
    const got: number[] = []
    let failures = 0
    const c = reader(async (changes) => {
      const ns = seen(changes)
      if (ns.includes(7) && failures++ === 0) throw new Error('table briefly unavailable')
      got.push(...ns)
    })
    await c.start()
    await put(7)
    await waitUntil(() => got.includes(7), 10_000, 'the failed batch to come again')
    await c.stop()
    expect(failures).toBeGreaterThanOrEqual(2)
    expect(got.filter((n) => n === 7)).toHaveLength(1)
  })

  it('idles without writing: its own checkpoint records make no further checkpoint', async () => {
    const batches: StreamChange[][] = []
    const d = reader(async (changes) => void batches.push(changes))
    await d.start()
    await put(8)
    await waitUntil(() => batches.some((b) => seen(b).includes(8)), 10_000, 'the change')
    // The checkpoint written after it comes back as one record; after that, silence.
    await new Promise((r) => setTimeout(r, 500))
    const settled = batches.length
    await new Promise((r) => setTimeout(r, 800))
    await d.stop()
    expect(batches.length).toBe(settled)
    expect(batches.flat().filter((c) => String(c.keys.pk).startsWith('STREAMPOS#')).length).toBeLessThanOrEqual(2)
  })
  it('each checkpoint write sets the table TTL anew, 48 h after it', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z')
    const e = new DynamoDBStreamReader({ streams: createStreamsClient({ dynamodbEndpoint: table.endpoint }), doc: table.doc, tableName: table.tableName, logger, idleMs: 20, now: () => new Date(now), onChanges: async () => {} })
    const checkpoints = async () =>
      ((await table.doc.send(new ScanCommand({ TableName: table.tableName, ConsistentRead: true }))).Items ?? []).filter((i) => String(i.pk).startsWith('STREAMPOS#'))
    const ttls = async () => new Set((await checkpoints()).map((c) => c[tableDefinition.ttlAttribute]))
    await e.start()
    try {
      await put(9)
      const first = Math.floor(now / 1000) + CHECKPOINT_TTL_SECONDS
      await waitUntil(async () => (await ttls()).has(first), 10_000, 'a checkpoint with its TTL')
      now += 3600_000
      await put(10)
      await waitUntil(async () => (await ttls()).has(first + 3600), 10_000, 'the TTL moved on by the next write')
      expect(CHECKPOINT_TTL_SECONDS).toBe(48 * 3600)
    } finally {
      await e.stop()
    }
  })
})
