import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { isInProgress, type LinkStatus } from '../link/status.ts'
import { batchGet } from './batch.ts'
import { linkKey } from './link-item.ts'
import type { TransactItems } from './client.ts'
import { tableDefinition as T } from './table.ts'

const key = (tenantId: string) => ({ [T.partitionKey]: `INPROGRESS#${tenantId}`, [T.sortKey]: 'INPROGRESS' })

/** A create refused because the tenant's set of links in progress is full (it may hold finished ones). */
export class InProgressSetFull extends Error {
  constructor() {
    super("The tenant's links in progress are at the cap.")
    this.name = 'InProgressSetFull'
  }
}

/**
 * A tenant's links in progress, as a set of link ids on one item (`INPROGRESS#<tenant>`), for the
 * per-tenant cap on links in progress at once.
 *
 * A new link's id is added in the same transaction that creates the link, conditioned on the set's
 * size, so concurrent creates can never pass the cap (a count read before the write could: two
 * requests both see room). Nothing removes an id when its link finishes — every writer of every
 * ending would have to; instead a create that finds the set full prunes it: ids whose link is no
 * longer in progress (finished, linked, past its deadline, or gone) are removed, and the create is
 * tried once more. So the set only ever over-counts, and only until the next prune: it can delay a
 * create by one prune, never let one too many through.
 */
export class InProgressLinks {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The transaction item that adds `linkId` to the tenant's set while it holds fewer than `limit`. */
  reservation(tenantId: string, linkId: string, limit: number): TransactItems[number] {
    return {
      Update: {
        TableName: this.tableName,
        Key: key(tenantId),
        UpdateExpression: 'ADD #links :id',
        ConditionExpression: 'attribute_not_exists(#links) OR size(#links) < :limit',
        ExpressionAttributeNames: { '#links': 'links' },
        ExpressionAttributeValues: { ':id': new Set([linkId]), ':limit': limit },
      },
    }
  }

  /**
   * Removes the ids of links that are no longer in progress; answers how many are, and when the
   * first of them reaches its deadline (a slot frees by then at the latest).
   */
  async prune(tenantId: string, now: Date): Promise<{ live: number; firstDeadline: string | null }> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key(tenantId), ConsistentRead: true }))
    const ids = [...((Item?.links as Set<string> | undefined) ?? [])]
    const links = await this.readLinks(ids)
    const live = links.filter((link) => isInProgress(link.status) && Date.parse(link.expiresAt) > now.getTime())
    const liveIds = new Set(live.map((link) => link.id))
    const stale = ids.filter((id) => !liveIds.has(id))
    if (stale.length > 0) {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(tenantId),
          UpdateExpression: 'DELETE #links :stale',
          ExpressionAttributeNames: { '#links': 'links' },
          ExpressionAttributeValues: { ':stale': new Set(stale) },
        }),
      )
    }
    const firstDeadline = live.map((link) => link.expiresAt).sort()[0] ?? null
    return { live: live.length, firstDeadline }
  }

  private async readLinks(ids: string[]): Promise<{ id: string; status: LinkStatus; expiresAt: string }[]> {
    const items = await batchGet(this.doc, this.tableName, ids.map(linkKey), { projection: { expression: 'id, #status, expiresAt', names: { '#status': 'status' } } })
    return items as { id: string; status: LinkStatus; expiresAt: string }[]
  }
}
