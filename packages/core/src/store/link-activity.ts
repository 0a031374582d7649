import { paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { Link } from '../link/link.ts'
import { isInProgress } from '../link/status.ts'
import { linkIdOf } from './link-item.ts'
import { ACTIVITY_SORT, activityPartitions, tableDefinition as T } from './table.ts'

/** Consistent reads of index candidates in flight at once. */
const READ_CONCURRENCY = 10

/**
 * The sweepers' reading of the activity index: links in progress of one kind (never claimed, or
 * claimed) whose sort key is older than `before`. Every shard is queried in parallel; each
 * candidate is then read consistently with `get` (the index is eventually consistent and carries
 * keys only), and the ones still in progress for which `stillMatches` holds are yielded.
 */
export async function* linksActiveBefore(
  source: { doc: DynamoDBDocumentClient; tableName: string; get(id: string): Promise<Link | null> },
  kind: keyof typeof ACTIVITY_SORT,
  before: Date,
  stillMatches: (link: Link) => boolean,
): AsyncGenerator<Link> {
  const prefix = ACTIVITY_SORT[kind]
  const shards = await Promise.all(
    activityPartitions().map(async (partition) => {
      const ids: string[] = []
      const pages = paginateQuery(
        { client: source.doc },
        {
          TableName: source.tableName,
          IndexName: T.activityIndex.name,
          KeyConditionExpression: '#apk = :shard AND #ask BETWEEN :lo AND :hi',
          ExpressionAttributeNames: { '#apk': T.activityIndex.partitionKey, '#ask': T.activityIndex.sortKey },
          ExpressionAttributeValues: { ':shard': partition, ':lo': prefix, ':hi': `${prefix}${before.toISOString()}` },
        },
      )
      for await (const page of pages) for (const item of page.Items ?? []) ids.push(linkIdOf(item))
      return ids
    }),
  )
  const ids = shards.flat()
  for (let i = 0; i < ids.length; i += READ_CONCURRENCY) {
    const links = await Promise.all(ids.slice(i, i + READ_CONCURRENCY).map((id) => source.get(id)))
    for (const link of links) if (link && isInProgress(link.status) && stillMatches(link)) yield link
  }
}
