import { DeleteCommand, GetCommand, paginateQuery, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { isConditionalCheckFailed } from './client.ts'
import type { LinkStore } from './link-store.ts'
import { tableDefinition as T } from './table.ts'

/**
 * Logouts that have been asked for and have not ended yet. A DELETE on a linked link records the
 * request on the link (`logoutRequestedAt`) and puts a `LOGOUT#<linkId>` item, in one transaction.
 * The items are listed under a fixed partition of the byTenant index (`LOGOUTS`, as hosts are under
 * `HOSTS`), apart from the activity index, so the sweepers find the few unfinished logouts without
 * touching links in progress. The item goes when the link is unlinked.
 */

export const LOGOUTS_PARTITION = 'LOGOUTS'
const PREFIX = 'LOGOUT#'
const requestKey = (linkId: string) => ({ [T.partitionKey]: `${PREFIX}${linkId}`, [T.sortKey]: 'LOGOUT' })
/** Safety net only: the item is deleted when its logout ends. */
const REQUEST_TTL_SECONDS = 7 * 24 * 3600

export interface LogoutRequest {
  linkId: string
  requestedAt: string
  /** Dispatches so far, the API's first one included. */
  attempts: number
  /** Epoch ms of the last dispatch. */
  lastAttemptAt: number
}

export class LogoutRequests {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly store: LinkStore,
  ) {}

  /** True when this call recorded the request; false when one was already under way. StaleLinkError if not linked. */
  request(linkId: string, now = new Date()): Promise<boolean> {
    return this.store.requestLogout(linkId, {
      ...requestKey(linkId),
      [T.tenantIndex.partitionKey]: LOGOUTS_PARTITION,
      [T.tenantIndex.sortKey]: `${now.toISOString()}#${linkId}`,
      linkId,
      requestedAt: now.toISOString(),
      attempts: 1,
      lastAttemptAt: now.getTime(),
      [T.ttlAttribute]: Math.floor(now.getTime() / 1000) + REQUEST_TTL_SECONDS,
    })
  }

  async get(linkId: string): Promise<LogoutRequest | null> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: requestKey(linkId), ConsistentRead: true }))
    if (!Item) return null
    return { linkId, requestedAt: String(Item.requestedAt), attempts: Number(Item.attempts), lastAttemptAt: Number(Item.lastAttemptAt) }
  }

  /** The link ids of unfinished logouts, from the index keys alone. */
  async *pending(): AsyncGenerator<string> {
    const pages = paginateQuery(
      { client: this.doc },
      {
        TableName: this.tableName,
        IndexName: T.tenantIndex.name,
        KeyConditionExpression: '#gpk = :logouts',
        ExpressionAttributeNames: { '#gpk': T.tenantIndex.partitionKey },
        ExpressionAttributeValues: { ':logouts': LOGOUTS_PARTITION },
      },
    )
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const pk = String(item[T.partitionKey])
        if (pk.startsWith(PREFIX)) yield pk.slice(PREFIX.length)
      }
    }
  }

  /** Counts one more dispatch, conditional on the count read, so of racing sweepers one dispatches. */
  async recordAttempt(request: LogoutRequest, now: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: requestKey(request.linkId),
          UpdateExpression: 'SET #attempts = #attempts + :one, #last = :now',
          ConditionExpression: '#attempts = :read',
          ExpressionAttributeNames: { '#attempts': 'attempts', '#last': 'lastAttemptAt' },
          ExpressionAttributeValues: { ':one': 1, ':now': now, ':read': request.attempts },
        }),
      )
      return true
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false
      throw error
    }
  }

  async done(linkId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: requestKey(linkId) }))
  }
}
