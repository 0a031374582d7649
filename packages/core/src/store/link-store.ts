import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  paginateQuery,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb'
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import { unmarshall } from '@aws-sdk/util-dynamodb'
import { eraseAuthState } from '../auth-state/dynamodb-auth-state.ts'
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts'
import type { Link, LinkViewSource } from '../link/link.ts'
import { canTransition, FINAL_STATUSES, IN_PROGRESS_STATUSES, isFinal, isInProgress, type LinkStatus } from '../link/status.ts'
import { cancellationCodes, isConditionalCheckFailed, transactWrite, type TransactItems } from './client.ts'
import { InProgressLinks } from './in-progress.ts'
import { ACTIVITY_SORT, activityPartition, activityPartitions, activityShard, tableDefinition as T } from './table.ts'

/** Consistent reads of index candidates in flight at once. */
const READ_CONCURRENCY = 10

/** How long a finished link stays readable before DynamoDB's TTL removes it. */
export const FINISHED_RETENTION_SECONDS = 7 * 24 * 3600

const linkKey = (id: string) => ({ [T.partitionKey]: `LINK#${id}`, [T.sortKey]: 'LINK' })
const idempotencyKey = (tenantId: string, key: string) => ({ [T.partitionKey]: `IDEMP#${tenantId}#${key}`, [T.sortKey]: 'IDEMP' })
const tenantPartition = (tenantId: string) => `TENANT#${tenantId}`
const epochSeconds = (iso: string | Date) => Math.floor(new Date(iso).getTime() / 1000)

/** When the item should disappear: never while linked (the backend still needs its credentials). */
function ttlFor(link: Pick<Link, 'status' | 'expiresAt'>, now: Date): number | undefined {
  if (link.status === 'linked') return undefined
  const from = isFinal(link.status) ? now : new Date(link.expiresAt)
  return epochSeconds(from) + FINISHED_RETENTION_SECONDS
}

/**
 * The activity index holds a link while it is in progress, in its shard: by creation until a worker
 * claims it, then by its last heartbeat (see store/table.ts).
 */
function activityAttributes(link: Pick<Link, 'id' | 'status' | 'createdAt' | 'heartbeatAt'>): Record<string, string | undefined> {
  if (!isInProgress(link.status)) return { [T.activityIndex.partitionKey]: undefined, [T.activityIndex.sortKey]: undefined }
  return { [T.activityIndex.partitionKey]: activityPartition(activityShard(link.id)), [T.activityIndex.sortKey]: activitySortKey(link) }
}

const activitySortKey = ({ heartbeatAt, createdAt }: Pick<Link, 'createdAt' | 'heartbeatAt'>) =>
  heartbeatAt ? `${ACTIVITY_SORT.claimed}${heartbeatAt}` : `${ACTIVITY_SORT.unclaimed}${createdAt}`

/**
 * What a write changes besides its own fields: leaving the in-progress statuses moves the link
 * out of the activity index and sets (or, once linked, removes) its TTL; a claim moves it within
 * the index. `undefined` values are removed.
 */
function derivedAttributes(update: LinkUpdate, now: Date): Record<string, unknown> {
  if (update.to && !isInProgress(update.to)) {
    return {
      [T.activityIndex.partitionKey]: undefined,
      [T.activityIndex.sortKey]: undefined,
      [T.ttlAttribute]: ttlFor({ status: update.to, expiresAt: now.toISOString() }, now),
    }
  }
  const heartbeat = update.patch?.heartbeatAt
  return heartbeat && update.from.every(isInProgress) ? { [T.activityIndex.sortKey]: `${ACTIVITY_SORT.claimed}${heartbeat}` } : {}
}

function toItem(link: Link, now: Date): Record<string, unknown> {
  return {
    ...linkKey(link.id),
    [T.tenantIndex.partitionKey]: tenantPartition(link.tenantId),
    [T.tenantIndex.sortKey]: `${link.createdAt}#${link.id}`,
    [T.ttlAttribute]: ttlFor(link, now),
    ...activityAttributes(link),
    ...link,
    // Stored as JSON text: a DynamoDB map refuses some JSON (empty keys, numbers beyond 1e125).
    metadata: JSON.stringify(link.metadata),
  }
}

/** Whether a key (as a stream record carries it) is a link's own item. */
export function isLinkKey(key: Record<string, unknown>): boolean {
  return typeof key[T.partitionKey] === 'string' && (key[T.partitionKey] as string).startsWith('LINK#') && key[T.sortKey] === 'LINK'
}

/** A stored link item (e.g. a stream record's image, unmarshalled) as a Link. */
export function linkFromItem(item: Record<string, unknown>): Link {
  return fromItem(item)
}

function fromItem(item: Record<string, unknown>): Link
function fromItem<T extends Partial<Link>>(item: Record<string, unknown>): T
function fromItem(item: Record<string, unknown>): Link {
  const {
    [T.partitionKey]: _pk,
    [T.sortKey]: _sk,
    [T.tenantIndex.partitionKey]: _gpk,
    [T.tenantIndex.sortKey]: _gsk,
    [T.ttlAttribute]: _ttl,
    [T.activityIndex.partitionKey]: _apk,
    [T.activityIndex.sortKey]: _ask,
    metadata,
    ...link
  } = item
  return { ...link, metadata: JSON.parse(metadata as string) } as unknown as Link
}

/** Fields a write may change; identity, metadata and bookkeeping are fixed at creation or the store's own. */
export type LinkPatch = Partial<
  Omit<Link, 'id' | 'tenantId' | 'createdAt' | 'version' | 'status' | 'clientTokenHashes' | 'metadata' | 'relinkOf' | 'relinkedTo'>
>

export interface LinkUpdate {
  /** The write succeeds only while the link is in one of these statuses. */
  from: readonly LinkStatus[]
  /** The new status; every `from → to` must be allowed by the state machine. */
  to?: LinkStatus
  patch?: LinkPatch
  /** Fencing token: the write succeeds only while the lease is still this one. */
  fence?: number
  /** Optimistic concurrency: the write succeeds only at this version. */
  version?: number
  /**
   * The write succeeds only while the last heartbeat is still this one (`null`: never claimed).
   * Heartbeats do not move `version` (they are not a visible change), so a writer that decides
   * from a quiet heartbeat (the sweeper) conditions on the heartbeat it read as well.
   */
  heartbeatAt?: string | null
  /** Increment the fencing token: the writer becomes the lease holder. */
  takeLease?: boolean
}

export interface ClaimOptions {
  workerId?: string
  version?: number
  /** The heartbeat the taker read (heartbeats do not move `version`). */
  heartbeatAt?: string | null
  patch?: LinkPatch
}

export interface IdempotencyRecord {
  key: string
  requestHash: string
  ttlSeconds: number
}

/** Conditional writes taken with a create, all or none; `refusal` gets the indexes (into `items`) that refused. */
export interface CreateGuard {
  items: TransactItems
  refusal(refused: number[]): Error
}

export interface CreateOptions {
  idempotency?: IdempotencyRecord
  /** For a relink: the statuses the old link may be in. */
  relinkableFrom?: readonly LinkStatus[]
  guards?: CreateGuard[]
}

export interface ListOptions {
  status?: LinkStatus
  limit: number
  cursor?: string
  now: Date
}

export class LinkStore {
  /** Each tenant's set of links in progress, for the cap on them (see InProgressLinks). */
  readonly inProgress: InProgressLinks

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.inProgress = new InProgressLinks(doc, tableName)
  }

  /**
   * Stores a new link, and in the same transaction (all are written or none): its idempotency
   * record; for a relink (`link.relinkOf`, which must still be in one of `relinkableFrom` and not
   * relinked yet) the old link's pointer to the new one; and the caller's guards — conditional
   * writes such as rate counters and the in-progress reservation, each group of which throws its
   * own error when one of its conditions refuses.
   */
  async create(link: Link, options: CreateOptions = {}): Promise<{ created: true } | { created: false; linkId: string; requestHash: string }> {
    const { idempotency, relinkableFrom = [], guards = [] } = options
    const now = new Date()
    const putLink = { TableName: this.tableName, Item: toItem(link, now), ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': T.partitionKey } }
    const items: TransactItems = [{ Put: putLink }]
    if (idempotency) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: { ...idempotencyKey(link.tenantId, idempotency.key), linkId: link.id, requestHash: idempotency.requestHash, [T.ttlAttribute]: epochSeconds(now) + idempotency.ttlSeconds },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': T.partitionKey },
        },
      })
    }
    const relinkAt = items.length
    if (link.relinkOf) {
      const values: Record<string, unknown> = { ':new': link.id, ':one': 1, ':now': now.toISOString(), ':tenant': link.tenantId, ':null': null }
      relinkableFrom.forEach((s, i) => (values[`:from${i}`] = s))
      items.push({
        Update: {
          TableName: this.tableName,
          Key: linkKey(link.relinkOf),
          UpdateExpression: 'SET #relinkedTo = :new, #version = #version + :one, #updatedAt = :now',
          ConditionExpression: `attribute_exists(#pk) AND #tenant = :tenant AND #status IN (${relinkableFrom.map((_, i) => `:from${i}`).join(', ')}) AND (attribute_not_exists(#relinkedTo) OR #relinkedTo = :null)`,
          ExpressionAttributeNames: { '#pk': T.partitionKey, '#relinkedTo': 'relinkedTo', '#version': 'version', '#updatedAt': 'updatedAt', '#tenant': 'tenantId', '#status': 'status' },
          ExpressionAttributeValues: values,
        },
      })
    }
    const guardAt = guards.map((guard) => {
      const at = items.length
      items.push(...guard.items)
      return at
    })
    if (items.length === 1) {
      await this.doc.send(new PutCommand(putLink))
      return { created: true }
    }
    try {
      await transactWrite(this.doc, items)
      return { created: true }
    } catch (error) {
      const codes = cancellationCodes(error)
      if (!codes) throw error
      if (idempotency) {
        const existing = await this.findIdempotency(link.tenantId, idempotency.key)
        if (existing) return { created: false, ...existing }
      }
      const refused = (i: number) => codes[i] === 'ConditionalCheckFailed'
      if (link.relinkOf && refused(relinkAt)) throw new ConflictError('not_relinkable', 'The link was relinked or changed meanwhile; read it and try again.')
      guards.forEach((guard, g) => {
        const indexes = guard.items.map((_, i) => i).filter((i) => refused(guardAt[g] + i))
        if (indexes.length > 0) throw guard.refusal(indexes)
      })
      throw error
    }
  }

  async findIdempotency(tenantId: string, key: string): Promise<{ linkId: string; requestHash: string } | null> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: idempotencyKey(tenantId, key), ConsistentRead: true }))
    return res.Item ? { linkId: res.Item.linkId as string, requestHash: res.Item.requestHash as string } : null
  }

  async get(id: string): Promise<Link | null> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: linkKey(id), ConsistentRead: true }))
    return res.Item ? fromItem(res.Item) : null
  }

  /**
   * The one way a link changes. A conditional write guards it: the status must still be one of
   * `from` (and the lease and version as given), so of two racing writers exactly one wins; the
   * loser gets a ConflictError carrying the link as it now is.
   */
  async update(id: string, update: LinkUpdate): Promise<Link> {
    if (update.to) for (const from of update.from) {
      if (!canTransition(from, update.to)) throw new Error(`Illegal transition ${from} → ${update.to}`)
    }
    if (update.from.length === 0) throw new Error('update.from must name at least one status')
    const now = new Date()
    const names: Record<string, string> = { '#status': 'status', '#version': 'version', '#updatedAt': 'updatedAt' }
    const values: Record<string, unknown> = { ':one': 1, ':now': now.toISOString() }
    const sets = ['#version = #version + :one', '#updatedAt = :now']
    const removes: string[] = []
    const fields: Record<string, unknown> = { ...update.patch, ...derivedAttributes(update, now) }
    if (update.to) fields.status = update.to
    Object.entries(fields).forEach(([field, value], i) => {
      names[`#f${i}`] = field
      if (value === undefined) return removes.push(`#f${i}`)
      values[`:f${i}`] = value
      sets.push(`#f${i} = :f${i}`)
    })
    const conditions = [`#status IN (${update.from.map((_, i) => `:from${i}`).join(', ')})`]
    update.from.forEach((s, i) => (values[`:from${i}`] = s))
    if (update.takeLease) {
      names['#lease'] = 'leaseToken'
      sets.push('#lease = #lease + :one')
    }
    if (update.fence !== undefined) {
      names['#lease'] = 'leaseToken'
      values[':fence'] = update.fence
      conditions.push('#lease = :fence')
    }
    if (update.version !== undefined) {
      values[':version'] = update.version
      conditions.push('#version = :version')
    }
    if (update.heartbeatAt !== undefined) {
      names['#hb'] = 'heartbeatAt'
      values[':hb'] = update.heartbeatAt
      conditions.push('#hb = :hb')
    }
    return this.conditionalUpdate(id, `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`, conditions, names, values)
  }

  /**
   * A worker's sign of life: moves the link within the activity index and nothing else. It is not a
   * visible change (no `version`, no `updatedAt`, so a poller's ETag holds) and it rewrites no
   * other index. Conditional on the lease and on the link being in progress; returns the link as it
   * now stands, or throws StaleLinkError (lease lost, link decided) / NotFoundError.
   */
  heartbeat(id: string, { fence }: { fence: number }): Promise<Link> {
    const at = new Date().toISOString()
    const names = { '#hb': 'heartbeatAt', '#ask': T.activityIndex.sortKey, '#lease': 'leaseToken', '#status': 'status' }
    const values: Record<string, unknown> = { ':hb': at, ':ask': activitySortKey({ heartbeatAt: at, createdAt: '' }), ':fence': fence }
    IN_PROGRESS_STATUSES.forEach((s, i) => (values[`:live${i}`] = s))
    const live = IN_PROGRESS_STATUSES.map((_, i) => `:live${i}`).join(', ')
    return this.conditionalUpdate(id, 'SET #hb = :hb, #ask = :ask', ['#lease = :fence', `#status IN (${live})`], names, values)
  }

  /**
   * Remembers the ECS task started for the link, so that its stop can be matched to the link.
   * Bookkeeping, not a visible change: no `version`, no `updatedAt`, no index is rewritten.
   */
  async recordTask(id: string, taskArn: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: linkKey(id),
        UpdateExpression: 'SET #task = :task',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#task': 'taskArn', '#pk': T.partitionKey },
        ExpressionAttributeValues: { ':task': taskArn },
      }),
    )
  }

  private async conditionalUpdate(id: string, expression: string, conditions: string[], names: Record<string, string>, values: Record<string, unknown>): Promise<Link> {
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: linkKey(id),
          UpdateExpression: expression,
          ConditionExpression: `attribute_exists(#pk) AND ${conditions.join(' AND ')}`,
          ExpressionAttributeNames: { ...names, '#pk': T.partitionKey },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return fromItem(res.Attributes!)
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error
      // The SDK hands back the item as it was in DynamoDB's wire format, not unmarshalled.
      const current = (error as { Item?: Record<string, AttributeValue> }).Item
      if (!current) throw new NotFoundError()
      throw new StaleLinkError(fromItem(unmarshall(current)))
    }
  }

  /**
   * Takes the lease in one write: the next fencing token, so every earlier holder's writes now fail.
   * `workerId` records who holds it (the host the API pokes); `version` makes a takeover conditional
   * on the link as the taker read it.
   */
  claim(id: string, from: readonly LinkStatus[], to?: LinkStatus, options: ClaimOptions = {}): Promise<Link> {
    const patch: LinkPatch = { heartbeatAt: new Date().toISOString(), ...(options.workerId ? { workerId: options.workerId } : {}), ...options.patch }
    return this.update(id, { from, to, takeLease: true, version: options.version, heartbeatAt: options.heartbeatAt, patch })
  }

  /**
   * Records a logout request on a linked link and queues it (`also`, the logout queue's item), in
   * one transaction: the link must still be linked and not already have a logout requested.
   * Returns false when one was already requested; a link that is not linked is a StaleLinkError.
   */
  async requestLogout(id: string, also: Record<string, unknown>): Promise<boolean> {
    const now = new Date().toISOString()
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: linkKey(id),
                UpdateExpression: 'SET #requested = :now, #version = #version + :one, #updatedAt = :now',
                ConditionExpression: '#status = :linked AND attribute_not_exists(#requested)',
                ExpressionAttributeNames: { '#requested': 'logoutRequestedAt', '#version': 'version', '#updatedAt': 'updatedAt', '#status': 'status' },
                ExpressionAttributeValues: { ':now': now, ':one': 1, ':linked': 'linked' },
              },
            },
            { Put: { TableName: this.tableName, Item: also } },
          ],
        }),
      )
      return true
    } catch (error) {
      if ((error as Error).name !== 'TransactionCanceledException') throw error
      const current = await this.get(id)
      if (!current) throw new NotFoundError()
      if (current.status === 'linked' && current.logoutRequestedAt) return false
      throw new StaleLinkError(current)
    }
  }

  /** Erases the link's stored WhatsApp auth state (it shares this table), for links no worker will finish. */
  eraseCredentials(id: string): Promise<void> {
    return eraseAuthState(id, { doc: this.doc, tableName: this.tableName })
  }

  /**
   * Lets one more client token open the link, keeping at most `keep`: the first one (handed out at
   * creation) always stays, and the oldest of the later ones makes room. Neither write can conflict
   * with a concurrent addition, so any number of them at once all succeed and none is lost: the hash
   * is appended atomically, then the list is trimmed one oldest-later entry at a time, each removal
   * conditional on the list still being over `keep` (whoever finds it trimmed enough stops).
   */
  async addClientTokenHash(id: string, hash: string, keep: number): Promise<void> {
    const names = { '#hashes': 'clientTokenHashes' }
    let length: number
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: linkKey(id),
          UpdateExpression: 'SET #hashes = list_append(#hashes, :hash)',
          ConditionExpression: 'attribute_exists(#hashes)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':hash': [hash] },
          ReturnValues: 'UPDATED_NEW',
        }),
      )
      length = (res.Attributes?.clientTokenHashes as string[]).length
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new NotFoundError()
      throw error
    }
    for (; length > keep; length--) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: linkKey(id),
            UpdateExpression: 'REMOVE #hashes[1]',
            ConditionExpression: 'size(#hashes) > :keep',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':keep': keep },
          }),
        )
      } catch (error) {
        if (isConditionalCheckFailed(error)) return // trimmed by a concurrent addition
        throw error
      }
    }
  }

  /** Claimed links still in progress whose last heartbeat is older than `before`. */
  quietSince(before: Date): AsyncGenerator<Link> {
    return this.activeSince('claimed', before, (link) => link.heartbeatAt !== null && link.heartbeatAt < before.toISOString())
  }

  /** Pending links no worker has claimed, created before `before`. */
  unclaimedSince(before: Date): AsyncGenerator<Link> {
    return this.activeSince('unclaimed', before, (link) => link.status === 'pending' && link.heartbeatAt === null && link.createdAt < before.toISOString())
  }

  /**
   * Queries every activity shard in parallel for keys sorted before `before`, then reads each
   * candidate consistently (the index is eventually consistent and carries keys only) and yields
   * the ones that still match.
   */
  private async *activeSince(kind: keyof typeof ACTIVITY_SORT, before: Date, stillMatches: (link: Link) => boolean): AsyncGenerator<Link> {
    const prefix = ACTIVITY_SORT[kind]
    const shards = await Promise.all(
      activityPartitions().map(async (partition) => {
        const ids: string[] = []
        const pages = paginateQuery(
          { client: this.doc },
          {
            TableName: this.tableName,
            IndexName: T.activityIndex.name,
            KeyConditionExpression: '#apk = :shard AND #ask BETWEEN :lo AND :hi',
            ExpressionAttributeNames: { '#apk': T.activityIndex.partitionKey, '#ask': T.activityIndex.sortKey },
            ExpressionAttributeValues: { ':shard': partition, ':lo': prefix, ':hi': `${prefix}${before.toISOString()}` },
          },
        )
        for await (const page of pages) for (const item of page.Items ?? []) ids.push(String(item[T.partitionKey]).slice('LINK#'.length))
        return ids
      }),
    )
    const ids = shards.flat()
    for (let i = 0; i < ids.length; i += READ_CONCURRENCY) {
      const links = await Promise.all(ids.slice(i, i + READ_CONCURRENCY).map((id) => this.get(id)))
      for (const link of links) if (link && isInProgress(link.status) && stillMatches(link)) yield link
    }
  }

  /** A tenant's links (their public fields, as the tenant index projects them), newest first. Status filters account for read-time expiry. */
  async list(tenantId: string, options: ListOptions): Promise<{ links: LinkViewSource[]; nextCursor: string | null }> {
    const partition = tenantPartition(tenantId)
    let startKey = options.cursor ? decodeCursor(options.cursor, partition) : undefined
    const filter = options.status ? statusFilter(options.status, options.now) : undefined
    const links: LinkViewSource[] = []
    do {
      const res = await this.doc
        .send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: T.tenantIndex.name,
          KeyConditionExpression: '#gpk = :gpk',
          ScanIndexForward: false,
          Limit: options.limit - links.length,
          ExclusiveStartKey: startKey,
          ...(filter ? { FilterExpression: filter.expression } : {}),
          ExpressionAttributeNames: { '#gpk': T.tenantIndex.partitionKey, ...filter?.names },
          ExpressionAttributeValues: { ':gpk': partition, ...filter?.values },
        }),
        )
        .catch((error) => {
          // DynamoDB is the last judge of a start key; a cursor it refuses is the caller's input.
          if (options.cursor && (error as Error).name === 'ValidationException') throw new ValidationError('cursor', 'is not a cursor returned by this list')
          throw error
        })
      links.push(...(res.Items ?? []).map((item) => fromItem<LinkViewSource>(item)))
      startKey = res.LastEvaluatedKey
    } while (startKey && links.length < options.limit)
    return { links, nextCursor: startKey ? encodeCursor(startKey) : null }
  }
}

/** A conditional write lost: the link is no longer in the state the writer expected. */
export class StaleLinkError extends ConflictError {
  constructor(readonly current: Link) {
    super('state_conflict', `The link is ${current.status}; the change no longer applies.`)
  }
}

function statusFilter(status: LinkStatus, now: Date) {
  const names = { '#status': 'status', '#expiresAt': 'expiresAt' }
  const values: Record<string, unknown> = { ':status': status, ':now': now.toISOString() }
  if (status === 'expired') {
    IN_PROGRESS_STATUSES.forEach((s, i) => (values[`:live${i}`] = s))
    const live = IN_PROGRESS_STATUSES.map((_, i) => `:live${i}`).join(', ')
    return { names, values, expression: `#status = :status OR (#status IN (${live}) AND #expiresAt <= :now)` }
  }
  if (FINAL_STATUSES.includes(status) || status === 'linked') return { names: { '#status': 'status' }, values: { ':status': status }, expression: '#status = :status' }
  return { names, values, expression: '#status = :status AND #expiresAt > :now' }
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

/** A cursor is only ever a position inside the caller's own partition. */
function decodeCursor(cursor: string, partition: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    const fields = [T.partitionKey, T.sortKey, T.tenantIndex.partitionKey, T.tenantIndex.sortKey]
    const wellFormed =
      key &&
      Object.keys(key).length === fields.length &&
      fields.every((f) => typeof key[f] === 'string' && key[f].length > 0) &&
      key[T.tenantIndex.partitionKey] === partition &&
      key[T.sortKey] === 'LINK' &&
      key[T.partitionKey] === `LINK#${String(key[T.tenantIndex.sortKey]).split('#').pop()}`
    if (wellFormed) return key
  } catch {
    // fall through
  }
  throw new ValidationError('cursor', 'is not a cursor returned by this list')
}
