import { randomUUID } from 'node:crypto'
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { isConditionalCheckFailed } from '../store/client.ts'
import { FINISHED_RETENTION_SECONDS } from '../store/link-item.ts'
import { activityShard, tableDefinition as T } from '../store/table.ts'
import type { Link } from '../link/link.ts'
import type { LinkEvent, StreamChange, WebhookEventType } from './events.ts'

/**
 * Webhook events and their delivery state, in the single table. One partition per link:
 *   pk EVT#<linkId>, sk E#<version, 10 digits>#<type>  — one event, in the link's order
 *   pk EVT#<linkId>, sk QUEUE                          — the link's delivery queue: a counter of
 *       enqueued work (seq), the dispatcher's lease, `gone` after a 410, the last redelivery's
 *       `kick` (a new value per redelivery), and while work is waiting,
 *       the activity index's keys: gsi2pk = WEBHOOKS#<shard> (the index's own shard of the link
 *       id), gsi2sk = when it is due (an ISO time). So due queues are found with one Query per
 *       shard, never a scan; the index projects keys only, which is all this reads.
 * Items live as long as their link does (a finished link's retention, counted from its deadline
 * or from the event, whichever is later).
 */

export type DeliveryState = 'pending' | 'delivered' | 'failed'
/** Why the last attempt did not deliver. Never a URL, a body or a header: those may carry secrets. */
export type DeliveryError = 'timeout' | 'address_refused' | 'invalid_url' | 'network_error' | 'http_error' | 'gone'

export interface StoredEvent extends LinkEvent {
  state: DeliveryState
  attempts: number
  lastHttpStatus: number | null
  lastError: DeliveryError | null
  lastAttemptAt: string | null
  nextAttemptAt: string | null
  deliveredAt: string | null
  /**
   * The event's last redelivery (a new value each time; absent before the first). An attempt's
   * outcome is written only while it is unchanged, so a redelivery asked for during the attempt is
   * not overwritten by that attempt's outcome (a 410's `failed`, say).
   */
  redelivery?: string | null
}

export interface QueueState {
  seq: number
  gone: boolean
  /** The last redelivery asked for (null: none yet). A 410 marks the queue gone only while this is unchanged. */
  kick: string | null
}

/**
 * How a holder's release went: `released`; `more_work` (work was enqueued since it read the queue:
 * it still holds the lease and must look again); `lost` (its lease ran out and another dispatcher
 * took the queue: it must stop at once, the other one serves the link now).
 */
export type ReleaseResult = 'released' | 'more_work' | 'lost'

/** What one attempt changes on its event. */
export type EventOutcome = Pick<StoredEvent, 'state' | 'attempts' | 'lastHttpStatus' | 'lastError' | 'lastAttemptAt' | 'nextAttemptAt' | 'deliveredAt'>

const DUE_PREFIX = 'WEBHOOKS#'
/** How many due links `dueLinks` returns when not told. */
const DEFAULT_DUE_LIMIT = 1000
const QUEUE_SK = 'QUEUE'
const EVENT_SK_PREFIX = 'E#'

const partition = (linkId: string) => `EVT#${linkId}`
const queueKey = (linkId: string) => ({ [T.partitionKey]: partition(linkId), [T.sortKey]: QUEUE_SK })
const eventKey = (linkId: string, version: number, type: WebhookEventType) => ({
  [T.partitionKey]: partition(linkId),
  [T.sortKey]: `${EVENT_SK_PREFIX}${String(version).padStart(10, '0')}#${type}`,
})
const epochSeconds = (ms: number) => Math.floor(ms / 1000)

/** Due queues are spread over the activity index's shards, so no one partition takes every write. */
const dueShard = (linkId: string) => `${DUE_PREFIX}${activityShard(linkId)}`

/** As long as its link: the later of the link's deadline and the event, plus a finished link's retention. */
function retentionOf(event: Pick<LinkEvent, 'occurredAt'> & { link: Pick<Link, 'expiresAt'> }): number {
  return epochSeconds(Math.max(Date.parse(event.link.expiresAt), Date.parse(event.occurredAt))) + FINISHED_RETENTION_SECONDS
}

/** A stream record of a queue whose `kick` changed: someone (a redelivery) wants its link served now. */
export function isQueueKick(change: StreamChange): string | null {
  const pk = change.keys[T.partitionKey]
  if (change.keys[T.sortKey] !== QUEUE_SK || typeof pk !== 'string' || !pk.startsWith('EVT#')) return null
  const kick = change.newImage?.kick
  return kick !== undefined && kick !== change.oldImage?.kick ? pk.slice('EVT#'.length) : null
}

function fromItem(item: Record<string, unknown>): StoredEvent {
  return {
    id: item.id as string,
    type: item.type as WebhookEventType,
    linkId: item.linkId as string,
    tenantId: item.tenantId as string,
    version: item.version as number,
    occurredAt: item.occurredAt as string,
    url: item.url as string,
    link: JSON.parse(item.link as string) as Link,
    state: item.state as DeliveryState,
    attempts: item.attempts as number,
    lastHttpStatus: (item.lastHttpStatus as number | undefined) ?? null,
    lastError: (item.lastError as DeliveryError | undefined) ?? null,
    lastAttemptAt: (item.lastAttemptAt as string | undefined) ?? null,
    nextAttemptAt: (item.nextAttemptAt as string | undefined) ?? null,
    deliveredAt: (item.deliveredAt as string | undefined) ?? null,
    redelivery: (item.redelivery as string | undefined) ?? null,
  }
}

export class WebhookEventStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Stores a new event as pending and puts its link's queue in the due index. Idempotent by event
   * id: a replayed stream record finds the event there and only nudges the queue.
   */
  async record(event: LinkEvent, now: Date): Promise<boolean> {
    const ttl = retentionOf(event)
    let created = true
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...eventKey(event.linkId, event.version, event.type),
            ...event,
            link: JSON.stringify(event.link),
            state: 'pending',
            attempts: 0,
            nextAttemptAt: now.toISOString(),
            [T.ttlAttribute]: ttl,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': T.partitionKey },
        }),
      )
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error
      created = false
    }
    // After the event, never before: a dispatcher that sees the queue must find the event.
    await this.enqueue(event.linkId, now, { ttl })
    return created
  }

  /** Marks the link's queue as having work due at `now` (one more `seq`), so a dispatcher takes it. */
  private async enqueue(linkId: string, now: Date, options: { ttl?: number; kick?: string }): Promise<void> {
    const names: Record<string, string> = { '#seq': 'seq', '#linkId': 'linkId', '#dpk': T.activityIndex.partitionKey, '#dsk': T.activityIndex.sortKey }
    const values: Record<string, unknown> = { ':zero': 0, ':one': 1, ':linkId': linkId, ':shard': dueShard(linkId), ':now': now.toISOString() }
    const sets = ['#seq = if_not_exists(#seq, :zero) + :one', '#linkId = :linkId', '#dpk = :shard', '#dsk = :now']
    if (options.ttl !== undefined) {
      names['#ttl'] = T.ttlAttribute
      values[':ttl'] = options.ttl
      sets.push('#ttl = :ttl')
    }
    if (options.kick) {
      // A redelivery: the tenant wants this link served again, 410 or not.
      Object.assign(names, { '#kick': 'kick', '#gone': 'gone' })
      Object.assign(values, { ':kick': options.kick, ':false': false })
      sets.push('#kick = :kick', '#gone = :false')
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: queueKey(linkId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    )
  }

  /** Takes the link's queue for `leaseMs`, or null when another dispatcher holds it (or there is none). */
  async lock(linkId: string, owner: string, now: Date, leaseMs: number): Promise<QueueState | null> {
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: queueKey(linkId),
          UpdateExpression: 'SET #owner = :owner, #until = :until',
          ConditionExpression: 'attribute_exists(#pk) AND (attribute_not_exists(#until) OR #until < :now)',
          ExpressionAttributeNames: { '#pk': T.partitionKey, '#owner': 'lockOwner', '#until': 'lockedUntil' },
          ExpressionAttributeValues: { ':owner': owner, ':until': now.getTime() + leaseMs, ':now': now.getTime() },
          ReturnValues: 'ALL_NEW',
        }),
      )
      return queueState(res.Attributes!)
    } catch (error) {
      if (isConditionalCheckFailed(error)) return null
      throw error
    }
  }

  /** Extends the holder's lease; false when it is no longer the holder (its lease ran out and another took it). */
  async renew(linkId: string, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: queueKey(linkId),
          UpdateExpression: 'SET #until = :until',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'lockOwner', '#until': 'lockedUntil' },
          ExpressionAttributeValues: { ':owner': owner, ':until': now.getTime() + leaseMs },
        }),
      )
      return true
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false
      throw error
    }
  }

  async queue(linkId: string): Promise<QueueState | null> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: queueKey(linkId), ConsistentRead: true }))
    return res.Item ? queueState(res.Item) : null
  }

  /**
   * Lets go of the queue, leaving it due at `due` (or out of the index when nothing waits). Only
   * the holder, and only if no work was enqueued since it read `seq`; when the write is refused,
   * the queue as it was says why (see ReleaseResult).
   */
  async release(linkId: string, owner: string, seq: number, due: Date | null): Promise<ReleaseResult> {
    const names: Record<string, string> = { '#owner': 'lockOwner', '#until': 'lockedUntil', '#seq': 'seq', '#dpk': T.activityIndex.partitionKey, '#dsk': T.activityIndex.sortKey }
    const values: Record<string, unknown> = { ':owner': owner, ':seq': seq }
    let update = 'REMOVE #owner, #until, #dpk, #dsk'
    if (due) {
      Object.assign(values, { ':shard': dueShard(linkId), ':due': due.toISOString() })
      update = 'SET #dpk = :shard, #dsk = :due REMOVE #owner, #until'
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: queueKey(linkId),
          UpdateExpression: update,
          ConditionExpression: '#owner = :owner AND #seq = :seq',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return 'released'
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error
      // The SDK hands back the item as it was in DynamoDB's wire format, not unmarshalled.
      const current = (error as { Item?: Record<string, AttributeValue> }).Item
      return current?.lockOwner?.S === owner ? 'more_work' : 'lost'
    }
  }

  /**
   * The receiver answered 410 Gone: no more deliveries for this link until a redelivery asks again.
   * Only while the queue's `kick` is still the one the holder read: a redelivery that landed during
   * the attempt (it clears `gone` and sets a new kick) wins over the 410 that answered it. False when
   * not written (that redelivery, or a lost lease): the holder looks at the queue again.
   */
  async markGone(linkId: string, owner: string, kick: string | null): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: queueKey(linkId),
          UpdateExpression: 'SET #gone = :true',
          ConditionExpression: `#owner = :owner AND ${kick === null ? 'attribute_not_exists(#kick)' : '#kick = :kick'}`,
          ExpressionAttributeNames: { '#gone': 'gone', '#owner': 'lockOwner', '#kick': 'kick' },
          ExpressionAttributeValues: { ':true': true, ':owner': owner, ...(kick === null ? {} : { ':kick': kick }) },
        }),
      )
      return true
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false
      throw error
    }
  }

  /** Drops the lease without touching the due time: after a failure, the next sweep of due queues retries. */
  async unlock(linkId: string, owner: string): Promise<void> {
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: queueKey(linkId),
          UpdateExpression: 'REMOVE #owner, #until',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'lockOwner', '#until': 'lockedUntil' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      )
      .catch((error) => {
        if (!isConditionalCheckFailed(error)) throw error
      })
  }

  /**
   * Up to `limit` links whose queue is due by `now`, the longest due first across every index
   * shard. One Query per shard, all at once, each already in due order and cut at `limit` (so the
   * `limit` longest due overall are among what they return); the rest stay in the index for the
   * next look. Never a scan, and never more than `limit` keys per shard however many are due.
   */
  async dueLinks(now: Date, limit = DEFAULT_DUE_LIMIT): Promise<string[]> {
    const shards = Array.from({ length: T.activityIndex.shards }, (_, n) => `${DUE_PREFIX}${n}`)
    const found = await Promise.all(shards.map((shard) => this.dueInShard(shard, now, limit)))
    return found
      .flat()
      .sort((a, b) => (a.due < b.due ? -1 : a.due > b.due ? 1 : a.linkId < b.linkId ? -1 : 1))
      .slice(0, limit)
      .map((entry) => entry.linkId)
  }

  /** The first `limit` due queues of one index shard, in due order (the index's sort key is the due time). */
  private async dueInShard(shard: string, now: Date, limit: number): Promise<{ linkId: string; due: string }[]> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: T.activityIndex.name,
        KeyConditionExpression: '#dpk = :shard AND #dsk <= :now',
        ExpressionAttributeNames: { '#dpk': T.activityIndex.partitionKey, '#dsk': T.activityIndex.sortKey },
        ExpressionAttributeValues: { ':shard': shard, ':now': now.toISOString() },
        Limit: limit,
      }),
    )
    // Due times are ISO strings of one format, so they compare as strings.
    return (res.Items ?? []).map((item) => ({ linkId: (item[T.partitionKey] as string).slice('EVT#'.length), due: item[T.activityIndex.sortKey] as string }))
  }

  /** The link's events, oldest first. */
  async list(linkId: string, options: { pendingOnly?: boolean } = {}): Promise<StoredEvent[]> {
    const pages = paginateQuery(
      { client: this.doc },
      {
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ...(options.pendingOnly ? { FilterExpression: '#state = :pending' } : {}),
        ExpressionAttributeNames: { '#pk': T.partitionKey, '#sk': T.sortKey, ...(options.pendingOnly ? { '#state': 'state' } : {}) },
        ExpressionAttributeValues: { ':pk': partition(linkId), ':prefix': EVENT_SK_PREFIX, ...(options.pendingOnly ? { ':pending': 'pending' } : {}) },
        ConsistentRead: true,
      },
    )
    const events: StoredEvent[] = []
    for await (const page of pages) events.push(...(page.Items ?? []).map(fromItem))
    return events
  }

  /** One event of the link (a link has tens of events, so its partition is read whole). */
  async find(linkId: string, eventId: string): Promise<StoredEvent | null> {
    return (await this.list(linkId)).find((e) => e.id === eventId) ?? null
  }

  /** Writes an attempt's outcome, unless the event changed meanwhile (another attempt, a redelivery: then false). */
  async settle(event: StoredEvent, outcome: EventOutcome): Promise<boolean> {
    const fields = Object.entries(outcome)
    const names: Record<string, string> = { '#attempts': 'attempts', '#state': 'state', '#redelivery': 'redelivery' }
    const values: Record<string, unknown> = { ':readAttempts': event.attempts, ':pending': 'pending' }
    const redelivered = event.redelivery ? '#redelivery = :redelivery' : 'attribute_not_exists(#redelivery)'
    if (event.redelivery) values[':redelivery'] = event.redelivery
    const sets: string[] = []
    const removes: string[] = []
    fields.forEach(([field, value], i) => {
      names[`#f${i}`] = field
      if (value === null) return removes.push(`#f${i}`)
      values[`:f${i}`] = value
      sets.push(`#f${i} = :f${i}`)
    })
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: eventKey(event.linkId, event.version, event.type),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: `#attempts = :readAttempts AND #state = :pending AND ${redelivered}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      )
      return true
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false
      throw error
    }
  }

  /**
   * Makes the event pending and due now, and asks for its link to be served at once (even after a
   * 410). One new value marks both the event (so an attempt under way cannot overwrite this with
   * its outcome) and the queue's `kick` (so a 410 answered meanwhile cannot mark the link gone).
   */
  async redeliver(event: StoredEvent, now: Date): Promise<void> {
    const kick = randomUUID()
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: eventKey(event.linkId, event.version, event.type),
        UpdateExpression: 'SET #state = :pending, #next = :now, #redelivery = :kick',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': T.partitionKey, '#state': 'state', '#next': 'nextAttemptAt', '#redelivery': 'redelivery' },
        ExpressionAttributeValues: { ':pending': 'pending', ':now': now.toISOString(), ':kick': kick },
      }),
    )
    await this.enqueue(event.linkId, now, { kick })
  }
}

function queueState(item: Record<string, unknown>): QueueState {
  return { seq: (item.seq as number | undefined) ?? 0, gone: item.gone === true, kick: (item.kick as string | undefined) ?? null }
}
