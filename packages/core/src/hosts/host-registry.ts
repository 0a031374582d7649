import { DeleteCommand, GetCommand, paginateQuery, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { isConditionalCheckFailed } from '../store/client.ts'
import { tableDefinition as T } from '../store/table.ts'
import { HOST_STALE_MS } from './policy.ts'

/**
 * Worker hosts, one `HOST#<hostId>` item each. The item is both the host's registration and its
 * inbox: `links` (a string set) holds the link ids assigned to it, `pokes` (a string set) the ids
 * whose session should re-read its link now. A dispatcher assigns a link with one conditional
 * `ADD`; the host polls its item with a strongly consistent read.
 *
 * Hosts that take new links are listed under a fixed partition of the byTenant index (as API keys
 * are under `APIKEYS`); a dispatcher relies only on the keys that query returns (the index may
 * project KEYS_ONLY) and then on a conditional write. One-shot workers register unlisted: they
 * take no new links, but the API can still poke them and a settle can still find their link.
 */

export const HOSTS_PARTITION = 'HOSTS'
const PREFIX = 'HOST#'
const hostKey = (hostId: string) => ({ [T.partitionKey]: `${PREFIX}${hostId}`, [T.sortKey]: 'HOST' })
/** An item no heartbeat has refreshed for this long is removed by DynamoDB's TTL. */
const HOST_TTL_SECONDS = 3600

export interface HostRecord {
  id: string
  capacity: number
  links: string[]
  pokes: string[]
  /** Epoch ms of the host's last heartbeat. */
  heartbeatAt: number
  /** Takes new links (false for one-shot workers and once draining). */
  accepting: boolean
  draining: boolean
}

export interface HostRegistration {
  id: string
  capacity: number
  /** Links it holds from the start (the LINK_ID it was started with). */
  links?: string[]
  /** Listed hosts are offered new links; one-shot workers are not listed. */
  listed: boolean
}

const ttl = (now: number) => Math.floor(now / 1000) + HOST_TTL_SECONDS
const asList = (value: unknown): string[] => (value instanceof Set ? [...value] : Array.isArray(value) ? value : [])

export class HostRegistry {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async register({ id, capacity, links = [], listed }: HostRegistration): Promise<void> {
    const now = this.now()
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...hostKey(id),
          ...(listed ? { [T.tenantIndex.partitionKey]: HOSTS_PARTITION, [T.tenantIndex.sortKey]: id } : {}),
          hostId: id,
          capacity,
          ...(links.length ? { links: new Set(links) } : {}),
          heartbeatAt: now,
          accepting: listed,
          draining: false,
          [T.ttlAttribute]: ttl(now),
        },
      }),
    )
  }

  /** False when the item is gone (a settle removed it, or its TTL did): the host should register again. */
  async heartbeat(id: string): Promise<boolean> {
    const now = this.now()
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: hostKey(id),
          UpdateExpression: 'SET #hb = :now, #ttl = :ttl',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#hb': 'heartbeatAt', '#ttl': T.ttlAttribute, '#pk': T.partitionKey },
          ExpressionAttributeValues: { ':now': now, ':ttl': ttl(now) },
        }),
      )
      return true
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false
      throw error
    }
  }

  async read(id: string): Promise<HostRecord | null> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: hostKey(id), ConsistentRead: true }))
    if (!Item) return null
    return {
      id,
      capacity: Number(Item.capacity),
      links: asList(Item.links),
      pokes: asList(Item.pokes),
      heartbeatAt: Number(Item.heartbeatAt),
      accepting: Item.accepting === true,
      draining: Item.draining === true,
    }
  }

  /** The ids of listed hosts, from the index keys alone. */
  async list(): Promise<string[]> {
    const ids: string[] = []
    const pages = paginateQuery(
      { client: this.doc },
      {
        TableName: this.tableName,
        IndexName: T.tenantIndex.name,
        KeyConditionExpression: '#gpk = :hosts',
        ExpressionAttributeNames: { '#gpk': T.tenantIndex.partitionKey },
        ExpressionAttributeValues: { ':hosts': HOSTS_PARTITION },
      },
    )
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const pk = String(item[T.partitionKey])
        if (pk.startsWith(PREFIX)) ids.push(pk.slice(PREFIX.length))
      }
    }
    return ids
  }

  /**
   * Assigns the link to the host if, at that instant, the host exists, takes new links, has
   * heart-beaten recently and has room. True when it did.
   */
  async offer(hostId: string, linkId: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: hostKey(hostId),
          UpdateExpression: 'ADD #links :id',
          ConditionExpression:
            'attribute_exists(#pk) AND #accepting = :true AND #draining = :false AND #hb > :fresh AND (attribute_not_exists(#links) OR size(#links) < #capacity)',
          ExpressionAttributeNames: {
            '#pk': T.partitionKey,
            '#links': 'links',
            '#accepting': 'accepting',
            '#draining': 'draining',
            '#hb': 'heartbeatAt',
            '#capacity': 'capacity',
          },
          ExpressionAttributeValues: { ':id': new Set([linkId]), ':true': true, ':false': false, ':fresh': this.now() - HOST_STALE_MS },
        }),
      )
      return true
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false
      throw error
    }
  }

  /** The host is done with these links (and any pokes for them). */
  async release(hostId: string, linkIds: string[]): Promise<void> {
    if (linkIds.length === 0) return
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: hostKey(hostId),
          UpdateExpression: 'DELETE #links :ids, #pokes :ids',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': T.partitionKey, '#links': 'links', '#pokes': 'pokes' },
          ExpressionAttributeValues: { ':ids': new Set(linkIds) },
        }),
      )
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error
    }
  }

  /** Asks the host holding the link to have its session re-read the link now. False if no such host. */
  async poke(hostId: string, linkId: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: hostKey(hostId),
          UpdateExpression: 'ADD #pokes :id',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': T.partitionKey, '#pokes': 'pokes' },
          ExpressionAttributeValues: { ':id': new Set([linkId]) },
        }),
      )
      return true
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false
      throw error
    }
  }

  async clearPokes(hostId: string, linkIds: string[]): Promise<void> {
    if (linkIds.length === 0) return
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: hostKey(hostId),
        UpdateExpression: 'DELETE #pokes :ids',
        ExpressionAttributeNames: { '#pokes': 'pokes' },
        ExpressionAttributeValues: { ':ids': new Set(linkIds) },
      }),
    )
  }

  /**
   * Stops offers to the host. With `onlyIfIdle`, only while it holds no link (an idle host about
   * to exit), so no dispatch can land between its last look and its exit. True when it took effect.
   */
  async drain(hostId: string, { onlyIfIdle = false } = {}): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: hostKey(hostId),
          UpdateExpression: 'SET #draining = :true, #accepting = :false',
          ConditionExpression: `attribute_exists(#pk)${onlyIfIdle ? ' AND (attribute_not_exists(#links) OR size(#links) = :zero)' : ''}`,
          ExpressionAttributeNames: { '#pk': T.partitionKey, '#draining': 'draining', '#accepting': 'accepting', ...(onlyIfIdle ? { '#links': 'links' } : {}) },
          ExpressionAttributeValues: { ':true': true, ':false': false, ...(onlyIfIdle ? { ':zero': 0 } : {}) },
        }),
      )
      return true
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false
      throw error
    }
  }

  async remove(hostId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: hostKey(hostId) }))
  }
}
