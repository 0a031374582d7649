import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { TransactItems } from './client.ts'
import { epochSeconds } from './link-item.ts'
import { tableDefinition as T } from './table.ts'

/**
 * A create's Idempotency-Key: `IDEMP#<tenant>#<key>`, written in the create's own transaction, so a
 * replay (or a concurrent twin) finds the link the first request made, and the body it was made from.
 */

export interface IdempotencyRecord {
  key: string
  requestHash: string
  ttlSeconds: number
}

const itemKey = (tenantId: string, key: string) => ({ [T.partitionKey]: `IDEMP#${tenantId}#${key}`, [T.sortKey]: 'IDEMP' })

/** The transaction item recording that `linkId` answers `record`; it refuses when the key is taken. */
export function idempotencyPut(tableName: string, tenantId: string, linkId: string, record: IdempotencyRecord, now: Date): TransactItems[number] {
  return {
    Put: {
      TableName: tableName,
      Item: { ...itemKey(tenantId, record.key), linkId, requestHash: record.requestHash, [T.ttlAttribute]: epochSeconds(now) + record.ttlSeconds },
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': T.partitionKey },
    },
  }
}

export async function findIdempotency(doc: DynamoDBDocumentClient, tableName: string, tenantId: string, key: string): Promise<{ linkId: string; requestHash: string } | null> {
  const res = await doc.send(new GetCommand({ TableName: tableName, Key: itemKey(tenantId, key), ConsistentRead: true }))
  return res.Item ? { linkId: res.Item.linkId as string, requestHash: res.Item.requestHash as string } : null
}
