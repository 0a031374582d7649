import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { ValidationError } from '../errors.ts'
import type { LinkViewSource } from '../link/link.ts'
import { FINAL_STATUSES, IN_PROGRESS_STATUSES, type LinkStatus } from '../link/status.ts'
import { linkFromItem, linkKey, tenantPartition } from './link-item.ts'
import { statusIn } from './link-update.ts'
import { tableDefinition as T } from './table.ts'

export interface ListOptions {
  status?: LinkStatus
  limit: number
  cursor?: string
  now: Date
}

/**
 * A tenant's links (their public fields, as the tenant index projects them), newest first, a page
 * at a time: `nextCursor` is the opaque position to go on from. A status filter accounts for
 * read-time expiry (a link past its deadline lists as `expired`).
 */
export async function listTenantLinks(
  doc: DynamoDBDocumentClient,
  tableName: string,
  tenantId: string,
  options: ListOptions,
): Promise<{ links: LinkViewSource[]; nextCursor: string | null }> {
  const partition = tenantPartition(tenantId)
  let startKey = options.cursor ? decodeCursor(options.cursor, partition) : undefined
  const filter = options.status ? statusFilter(options.status, options.now) : undefined
  const links: LinkViewSource[] = []
  do {
    const res = await doc
      .send(
        new QueryCommand({
          TableName: tableName,
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
    links.push(...(res.Items ?? []).map((item) => linkFromItem<LinkViewSource>(item)))
    startKey = res.LastEvaluatedKey
  } while (startKey && links.length < options.limit)
  return { links, nextCursor: startKey ? encodeCursor(startKey) : null }
}

/** The filter that lists the links whose status reads as `status` at `now`. */
export function statusFilter(status: LinkStatus, now: Date) {
  const names = { '#status': 'status', '#expiresAt': 'expiresAt' }
  const values: Record<string, unknown> = { ':status': status, ':now': now.toISOString() }
  if (status === 'expired') {
    return { names, values, expression: `#status = :status OR (${statusIn(IN_PROGRESS_STATUSES, values, 'live')} AND #expiresAt <= :now)` }
  }
  if (FINAL_STATUSES.includes(status) || status === 'linked') return { names: { '#status': 'status' }, values: { ':status': status }, expression: '#status = :status' }
  return { names, values, expression: '#status = :status AND #expiresAt > :now' }
}

export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

/** A cursor is only ever a position inside the caller's own partition. */
export function decodeCursor(cursor: string, partition: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    const fields = [T.partitionKey, T.sortKey, T.tenantIndex.partitionKey, T.tenantIndex.sortKey]
    const wellFormed =
      key &&
      Object.keys(key).length === fields.length &&
      fields.every((f) => typeof key[f] === 'string' && key[f].length > 0) &&
      key[T.tenantIndex.partitionKey] === partition &&
      key[T.sortKey] === linkKey('')[T.sortKey] &&
      key[T.partitionKey] === linkKey(String(key[T.tenantIndex.sortKey]).split('#').pop()!)[T.partitionKey]
    if (wellFormed) return key
  } catch {
    // fall through
  }
  throw new ValidationError('cursor', 'is not a cursor returned by this list')
}
