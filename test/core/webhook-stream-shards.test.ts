import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GetCommand } from '@aws-sdk/lib-dynamodb'
import { createLogger } from '@wa-link-broker/core/logger'
import type { StreamChange } from '@wa-link-broker/core/webhooks'
import { tableDefinition } from '@wa-link-broker/core/store'
import { CHECKPOINT_TTL_SECONDS, createStreamsClient, DynamoDBStreamReader } from '@wa-link-broker/core/webhooks/stream-reader'
import { startAwsJsonServer } from '../fixtures/aws-json-server.ts'
import { LogCapture } from '../support/api.ts'
import { waitUntil } from '../support/e2e.ts'
import { createTestTable } from '../support/store.ts'

/**
 * A shard split, which DynamoDB Local cannot be made to do on demand: a DynamoDB Streams endpoint
 * faked at the wire (the real SDK client talks to it), with a closed parent shard and its child.
 * Checkpoints go to a real table in DynamoDB Local.
 */

const record = (n: number) => ({
  eventName: 'INSERT',
  dynamodb: { Keys: { pk: { S: `X#${n}` }, sk: { S: 'X' } }, NewImage: { pk: { S: `X#${n}` }, sk: { S: 'X' }, n: { N: String(n) } }, SequenceNumber: String(n).padStart(3, '0') },
})

const SHARDS = [
  { ShardId: 'shard-child', ParentShardId: 'shard-parent', SequenceNumberRange: { StartingSequenceNumber: '004' } },
  { ShardId: 'shard-parent', SequenceNumberRange: { StartingSequenceNumber: '001', EndingSequenceNumber: '003' } },
]

/**
 * Parent holds records 1-3 and is closed; the child holds 4-5 and stays open. `listed` says which
 * of them DescribeStream lists now (the stream stops listing a shard once it has aged out).
 */
function shardedStream(listed: () => string[] = () => SHARDS.map((s) => s.ShardId)) {
  return startAwsJsonServer((call) => {
    const input = call.input as Record<string, string>
    switch (call.operation) {
      case 'ListStreams':
        return { body: { Streams: [{ StreamArn: 'arn:fake:stream', StreamLabel: 'label', TableName: 't' }] } }
      case 'DescribeStream':
        return {
          body: {
            StreamDescription: { StreamArn: 'arn:fake:stream', Shards: SHARDS.filter((s) => listed().includes(s.ShardId)) },
          },
        }
      case 'GetShardIterator':
        return { body: { ShardIterator: `${input.ShardId}|${input.ShardIteratorType}|${input.SequenceNumber ?? ''}` } }
      case 'GetRecords': {
        const [shard, type, after] = input.ShardIterator.split('|')
        const all = shard === 'shard-parent' ? [1, 2, 3] : [4, 5]
        const from = type === 'AFTER_SEQUENCE_NUMBER' ? Number(after) : 0
        const records = all.filter((n) => n > from)
        const last = records.at(-1) ?? from
        // A closed shard read to its end has no next iterator; an open one always has.
        const closedAndDone = shard === 'shard-parent' && records.length === 0
        return { body: { Records: records.map(record), ...(closedAndDone ? {} : { NextShardIterator: `${shard}|AFTER_SEQUENCE_NUMBER|${last}` }) } }
      }
      default:
        return { status: 400, body: { __type: 'UnknownOperationException' } }
    }
  })
}

let table: Awaited<ReturnType<typeof createTestTable>>
let streams: Awaited<ReturnType<typeof shardedStream>>
beforeAll(async () => {
  table = await createTestTable('shards')
  streams = await shardedStream()
})
afterAll(() => streams?.close())

function reader(onChanges: (changes: StreamChange[]) => Promise<void>, options: { on?: typeof streams; table?: typeof table; shardRefreshMs?: number } = {}) {
  const t = options.table ?? table
  return new DynamoDBStreamReader({
    streams: createStreamsClient({ dynamodbEndpoint: (options.on ?? streams).endpoint }),
    doc: t.doc,
    tableName: t.tableName,
    logger: createLogger({ level: 'warn' }, new LogCapture()),
    idleMs: 10,
    shardRefreshMs: options.shardRefreshMs,
    onChanges,
  })
}
const checkpointIn = async (t: typeof table, shard: string) =>
  (await t.doc.send(new GetCommand({ TableName: t.tableName, Key: { pk: `STREAMPOS#${shard}`, sk: 'STREAMPOS' } }))).Item
const numbers = (changes: StreamChange[]) => changes.map((c) => c.newImage?.n as number)

describe('stream reader across a shard split', () => {
  it('reads the closed parent to its end before its child, checkpoints both, and resumes the child after a restart', async () => {
    const seen: number[] = []
    const a = reader(async (changes) => void seen.push(...numbers(changes)))
    await a.start()
    await waitUntil(() => seen.length >= 5, 10_000, 'both shards')
    await a.stop()
    expect(seen).toEqual([1, 2, 3, 4, 5])
    const reads = streams.calls.filter((c) => c.operation === 'GetRecords').map((c) => String(c.input.ShardIterator).split('|')[0])
    expect(reads.indexOf('shard-child')).toBeGreaterThan(reads.lastIndexOf('shard-parent'))

    const checkpoint = (shard: string) => checkpointIn(table, shard)
    expect(await checkpoint('shard-parent')).toMatchObject({ sequenceNumber: '003', closed: true })
    expect(await checkpoint('shard-child')).toMatchObject({ sequenceNumber: '005', closed: false })

    // Started again: the finished parent is not read again; the child resumes after its checkpoint.
    const before = streams.calls.length
    const again: number[] = []
    const b = reader(async (changes) => void again.push(...numbers(changes)))
    await b.start()
    await waitUntil(() => streams.calls.slice(before).filter((c) => c.operation === 'GetRecords').length >= 2, 10_000, 'polls after the restart')
    await b.stop()
    expect(again).toEqual([])
    const iterators = streams.calls.slice(before).filter((c) => c.operation === 'GetShardIterator').map((c) => c.input)
    expect(iterators).toEqual([expect.objectContaining({ ShardId: 'shard-child', ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '005' })])
  })
})

describe('stream reader over days of shard roll-overs', () => {
  it('forgets a shard once it is read to its end, its child is tracked, and the stream no longer lists it', async () => {
    let listed = SHARDS.map((s) => s.ShardId)
    const own = await shardedStream(() => listed)
    const ownTable = await createTestTable('shards-forget')
    const seen: number[] = []
    const r = reader(async (changes) => void seen.push(...numbers(changes)), { on: own, table: ownTable, shardRefreshMs: 20 })
    try {
      await r.start()
      await waitUntil(() => seen.length >= 5, 10_000, 'both shards')
      expect((await checkpointIn(ownTable, 'shard-parent'))?.closed).toBe(true)
      // Read to its end but still listed: kept, so a refresh does not take it for a new shard.
      const refreshes = () => own.calls.filter((c) => c.operation === 'DescribeStream').length
      const before = refreshes()
      await waitUntil(() => refreshes() >= before + 2, 10_000, 'refreshes while the parent is listed')
      expect(r.trackedShardIds.sort()).toEqual(['shard-child', 'shard-parent'])
      // The parent ages out of the stream: the next refresh forgets it; the open child stays.
      listed = ['shard-child']
      await waitUntil(() => r.trackedShardIds.length === 1, 10_000, 'the parent to be forgotten')
      expect(r.trackedShardIds).toEqual(['shard-child'])
      // Nothing of it was read twice.
      expect(seen).toEqual([1, 2, 3, 4, 5])
    } finally {
      await r.stop()
      await own.close()
    }
  })

  it('keeps a finished shard no longer listed while none of its children is known', async () => {
    let listed = ['shard-parent']
    const own = await shardedStream(() => listed)
    const ownTable = await createTestTable('shards-orphan')
    const seen: number[] = []
    const r = reader(async (changes) => void seen.push(...numbers(changes)), { on: own, table: ownTable, shardRefreshMs: 20 })
    try {
      await r.start()
      await waitUntil(() => seen.length >= 3, 10_000, 'the parent')
      await waitUntil(async () => (await checkpointIn(ownTable, 'shard-parent'))?.closed === true, 10_000, 'the parent read to its end')
      listed = []
      const before = own.calls.filter((c) => c.operation === 'DescribeStream').length
      await waitUntil(() => own.calls.filter((c) => c.operation === 'DescribeStream').length >= before + 2, 10_000, 'refreshes')
      expect(r.trackedShardIds).toEqual(['shard-parent'])
      // Its child shows up: now the parent can go once it is unlisted.
      listed = ['shard-child']
      await waitUntil(() => r.trackedShardIds.join() === 'shard-child', 10_000, 'the parent to be forgotten after its child is known')
      await waitUntil(() => seen.length >= 5, 10_000, 'the child')
      expect(seen).toEqual([1, 2, 3, 4, 5])
    } finally {
      await r.stop()
      await own.close()
    }
  })

  it('every checkpoint carries the table TTL, 48 h after its write', async () => {
    const before = Math.floor(Date.now() / 1000)
    const ownTable = await createTestTable('shards-ttl')
    const r = reader(async () => {}, { table: ownTable })
    await r.start()
    await waitUntil(async () => (await checkpointIn(ownTable, 'shard-child'))?.sequenceNumber === '005', 10_000, 'the child checkpoint')
    await r.stop()
    const after = Math.floor(Date.now() / 1000)
    for (const shard of ['shard-parent', 'shard-child']) {
      const ttl = (await checkpointIn(ownTable, shard))?.[tableDefinition.ttlAttribute] as number
      expect(ttl, shard).toBeGreaterThanOrEqual(before + CHECKPOINT_TTL_SECONDS)
      expect(ttl, shard).toBeLessThanOrEqual(after + CHECKPOINT_TTL_SECONDS)
    }
    expect(CHECKPOINT_TTL_SECONDS).toBe(48 * 3600)
  })
})
