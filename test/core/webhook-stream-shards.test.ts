import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GetCommand } from '@aws-sdk/lib-dynamodb'
import { createLogger } from '@wa-link-broker/core/logger'
import type { StreamChange } from '@wa-link-broker/core/webhooks'
import { createStreamsClient, DynamoDBStreamReader } from '@wa-link-broker/core/webhooks/stream-reader'
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

/** Parent holds records 1-3 and is closed; the child holds 4-5 and stays open. */
function shardedStream() {
  return startAwsJsonServer((call) => {
    const input = call.input as Record<string, string>
    switch (call.operation) {
      case 'ListStreams':
        return { body: { Streams: [{ StreamArn: 'arn:fake:stream', StreamLabel: 'label', TableName: 't' }] } }
      case 'DescribeStream':
        return {
          body: {
            StreamDescription: {
              StreamArn: 'arn:fake:stream',
              Shards: [
                { ShardId: 'shard-child', ParentShardId: 'shard-parent', SequenceNumberRange: { StartingSequenceNumber: '004' } },
                { ShardId: 'shard-parent', SequenceNumberRange: { StartingSequenceNumber: '001', EndingSequenceNumber: '003' } },
              ],
            },
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

function reader(onChanges: (changes: StreamChange[]) => Promise<void>) {
  return new DynamoDBStreamReader({
    streams: createStreamsClient({ dynamodbEndpoint: streams.endpoint }),
    doc: table.doc,
    tableName: table.tableName,
    logger: createLogger({ level: 'warn' }, new LogCapture()),
    idleMs: 10,
    onChanges,
  })
}
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

    const checkpoint = async (shard: string) => (await table.doc.send(new GetCommand({ TableName: table.tableName, Key: { pk: `STREAMPOS#${shard}`, sk: 'STREAMPOS' } }))).Item
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
