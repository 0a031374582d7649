import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  type _Record,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams'
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { Logger } from 'pino'
import type { StoreConnection } from '../store/client.ts'
import { epochSeconds } from '../store/link-item.ts'
import { tableDefinition as T } from '../store/table.ts'
import type { StreamChange } from './events.ts'
import { toStreamChange } from './stream-change.ts'

/**
 * Reads the table's DynamoDB stream the way Lambda's event source mapping does in AWS, for one
 * machine (`npm start`, the tests): every shard in order, parents before children, handing each
 * batch to `onChanges` and then checkpointing its position in the table
 *   pk STREAMPOS#<shardId>, sk STREAMPOS: the last sequence number handled, `closed` once a
 *   closed shard has been read to its end, and the table's TTL attribute CHECKPOINT_TTL_SECONDS
 *   after the last write
 * so that a restart resumes where the last run stopped: at least once, never lost (within the
 * stream's 24 h retention). `onChanges` must be idempotent; a batch it throws on is read again.
 * DynamoDB rolls shards over every few hours, so neither the checkpoints nor the shards the reader
 * tracks may pile up: checkpoints expire by TTL, and finished shards are forgotten (see
 * forgetFinishedShards) once the stream no longer lists them.
 */

export interface StreamReaderOptions {
  streams: DynamoDBStreamsClient
  doc: DynamoDBDocumentClient
  tableName: string
  onChanges(changes: StreamChange[]): Promise<void>
  logger: Logger
  /**
   * How long to wait before polling again when no shard had anything new. Every poll is a
   * GetRecords per open shard, so this trades latency (on average half of it) against requests.
   */
  idleMs?: number
  /** How often to look for new shards (DynamoDB rolls them over; a closed shard also triggers a look). */
  shardRefreshMs?: number
  /** The clock of checkpoint writes (`updatedAt` and the TTL); tests move it. */
  now?: () => Date
}

export const DEFAULT_STREAM_IDLE_MS = 25
/**
 * How long a checkpoint outlives its last write before the table's TTL deletes it. The stream keeps
 * records 24 h, so a position older than that points at nothing a restart could still read; the
 * second day is margin for a reader that was stopped for a while. Each write sets it anew, so the
 * checkpoint of a shard still being read does not expire.
 */
export const CHECKPOINT_TTL_SECONDS = 48 * 3600
const CHECKPOINT_SK = 'STREAMPOS'
const checkpointKey = (shardId: string) => ({ [T.partitionKey]: `STREAMPOS#${shardId}`, [T.sortKey]: CHECKPOINT_SK })
const isCheckpoint = (record: _Record) => record.dynamodb?.Keys?.[T.sortKey]?.S === CHECKPOINT_SK

interface ShardState {
  id: string
  parentId?: string
  iterator?: string
  /** The last sequence number handed to onChanges successfully. */
  lastSeq?: string
  done: boolean
}

export function createStreamsClient(connection: StoreConnection): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({
    region: connection.region ?? 'us-east-1',
    ...(connection.dynamodbEndpoint
      ? { endpoint: connection.dynamodbEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  })
}

export class DynamoDBStreamReader {
  private readonly shards = new Map<string, ShardState>()
  private readonly idleMs: number
  private readonly shardRefreshMs: number
  private streamArn = ''
  private loop: Promise<void> | null = null
  private stopped = false
  private wake: (() => void) | null = null
  private refreshNeeded = true

  constructor(private readonly options: StreamReaderOptions) {
    this.idleMs = options.idleMs ?? DEFAULT_STREAM_IDLE_MS
    this.shardRefreshMs = options.shardRefreshMs ?? 30_000
  }

  async start(): Promise<void> {
    const { Streams } = await this.options.streams.send(new ListStreamsCommand({ TableName: this.options.tableName }))
    const latest = [...(Streams ?? [])].sort((a, b) => (a.StreamLabel! < b.StreamLabel! ? -1 : 1)).at(-1)
    if (!latest?.StreamArn) throw new Error(`The table ${this.options.tableName} has no stream: webhooks need it (see store/table.ts).`)
    this.streamArn = latest.StreamArn
    await this.refreshShards()
    this.loop = this.run()
  }

  /** The shards the reader keeps track of now, read or not (diagnostics; the tests watch it stay bounded). */
  get trackedShardIds(): string[] {
    return [...this.shards.keys()]
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    await this.loop
  }

  private async run(): Promise<void> {
    let refreshedAt = Date.now()
    while (!this.stopped) {
      let busy = false
      try {
        if (this.refreshNeeded || Date.now() - refreshedAt > this.shardRefreshMs) {
          await this.refreshShards()
          refreshedAt = Date.now()
        }
        for (const shard of this.readableShards()) busy = (await this.poll(shard)) || busy
      } catch (error) {
        this.options.logger.warn({ err: error }, 'stream read failed; retrying')
        await this.sleep(1000)
      }
      if (!busy) await this.sleep(this.idleMs)
    }
  }

  /** Shards whose parent has been read to its end (or is gone from the stream). */
  private readableShards(): ShardState[] {
    return [...this.shards.values()].filter((s) => !s.done && (!s.parentId || !this.shards.has(s.parentId) || this.shards.get(s.parentId)!.done))
  }

  /** Tracks the shards the stream lists that are new to the reader, and forgets the finished ones it no longer lists. */
  private async refreshShards(): Promise<void> {
    this.refreshNeeded = false
    const listed = await this.listShards()
    for (const shard of listed) {
      if (shard.ShardId && !this.shards.has(shard.ShardId)) await this.track(shard.ShardId, shard.ParentShardId)
    }
    this.forgetFinishedShards(new Set(listed.map((s) => s.ShardId)))
  }

  /** Every shard DescribeStream lists now, all pages. */
  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = []
    let start: string | undefined
    do {
      const { StreamDescription } = await this.options.streams.send(new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: start }))
      shards.push(...(StreamDescription?.Shards ?? []))
      start = StreamDescription?.LastEvaluatedShardId
    } while (start)
    return shards
  }

  /** A shard new to this process, from where its checkpoint (if any) says the last run stopped. */
  private async track(id: string, parentId: string | undefined): Promise<void> {
    const checkpoint = await this.readCheckpoint(id)
    this.shards.set(id, { id, parentId, lastSeq: checkpoint?.sequenceNumber, done: checkpoint?.closed === true })
  }

  /**
   * Drops the shards nothing will read again: read to their end (or aged out), their children
   * already tracked (so no child waits on them), and no longer listed by the stream (so the next
   * refresh does not find them again and re-read their checkpoint). While still listed a finished
   * shard is kept, for that same reason. Without this the map would grow by every shard DynamoDB
   * rolls over (about every 4 h) for as long as the process runs.
   */
  private forgetFinishedShards(listed: Set<string | undefined>): void {
    const parents = new Set([...this.shards.values()].map((s) => s.parentId))
    for (const shard of [...this.shards.values()]) {
      if (shard.done && parents.has(shard.id) && !listed.has(shard.id)) this.shards.delete(shard.id)
    }
  }

  /** Reads one batch from the shard; true when it had records (so polling goes on at once). */
  private async poll(shard: ShardState): Promise<boolean> {
    shard.iterator ??= await this.iteratorFor(shard)
    if (!shard.iterator) return false
    let res
    try {
      res = await this.options.streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }))
    } catch (error) {
      const name = (error as Error).name
      if (name === 'ExpiredIteratorException' || name === 'TrimmedDataAccessException') {
        shard.iterator = undefined
        return false
      }
      throw error
    }
    const records = res.Records ?? []
    if (records.length) {
      try {
        await this.options.onChanges(records.map(toStreamChange))
      } catch (error) {
        // Read the batch again from the last position handled.
        this.options.logger.warn({ err: error, shardId: shard.id, records: records.length }, 'stream batch failed; it will be read again')
        shard.iterator = undefined
        await this.sleep(500)
        return false
      }
      shard.lastSeq = records.at(-1)!.dynamodb!.SequenceNumber
      // A batch of nothing but checkpoints needs no checkpoint of its own (else each would make the next).
      if (records.some((r) => !isCheckpoint(r))) await this.writeCheckpoint(shard, false)
    }
    shard.iterator = res.NextShardIterator
    if (!shard.iterator) {
      // A closed shard read to its end: its children may be read now.
      shard.done = true
      this.refreshNeeded = true
      await this.writeCheckpoint(shard, true)
    }
    return records.length > 0
  }

  private async iteratorFor(shard: ShardState): Promise<string | undefined> {
    const get = async (type: ShardIteratorType, seq?: string) =>
      (await this.options.streams.send(new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: shard.id, ShardIteratorType: type, SequenceNumber: seq }))).ShardIterator
    try {
      return shard.lastSeq ? await get('AFTER_SEQUENCE_NUMBER', shard.lastSeq) : await get('TRIM_HORIZON')
    } catch (error) {
      const name = (error as Error).name
      if (name === 'TrimmedDataAccessException') {
        this.options.logger.warn({ shardId: shard.id }, 'stream position older than the stream keeps; reading from the oldest record')
        return get('TRIM_HORIZON')
      }
      if (name === 'ResourceNotFoundException') {
        shard.done = true // the shard aged out of the stream
        return undefined
      }
      throw error
    }
  }

  private async readCheckpoint(shardId: string): Promise<{ sequenceNumber?: string; closed?: boolean } | undefined> {
    const res = await this.options.doc.send(new GetCommand({ TableName: this.options.tableName, Key: checkpointKey(shardId), ConsistentRead: true }))
    return res.Item as { sequenceNumber?: string; closed?: boolean } | undefined
  }

  /** Every write sets the TTL anew: a checkpoint expires CHECKPOINT_TTL_SECONDS after the last one. */
  private async writeCheckpoint(shard: ShardState, closed: boolean): Promise<void> {
    const now = this.options.now?.() ?? new Date()
    await this.options.doc.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: {
          ...checkpointKey(shard.id),
          streamArn: this.streamArn,
          sequenceNumber: shard.lastSeq,
          closed,
          updatedAt: now.toISOString(),
          [T.ttlAttribute]: epochSeconds(now) + CHECKPOINT_TTL_SECONDS,
        },
      }),
    )
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wake = done
    })
  }
}
