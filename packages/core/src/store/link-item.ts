import type { Link } from '../link/link.ts'
import { isFinal, isInProgress } from '../link/status.ts'
import { ACTIVITY_SORT, activityPartition, activityShard, tableDefinition as T } from './table.ts'

/**
 * A link as a table item, and back: its keys, its place in the tenant and activity indexes, its TTL.
 *   pk LINK#<id>, sk LINK; gsi1 TENANT#<tenant> / <createdAt>#<id>; gsi2 while in progress (table.ts)
 */

/** How long a finished link stays readable before DynamoDB's TTL removes it. */
export const FINISHED_RETENTION_SECONDS = 7 * 24 * 3600

const LINK_PREFIX = 'LINK#'
const LINK_SK = 'LINK'

export const linkKey = (id: string) => ({ [T.partitionKey]: `${LINK_PREFIX}${id}`, [T.sortKey]: LINK_SK })
export const tenantPartition = (tenantId: string) => `TENANT#${tenantId}`
export const epochSeconds = (iso: string | Date) => Math.floor(new Date(iso).getTime() / 1000)

/** Whether a key (as a stream record or an index carries it) is a link's own item. */
export function isLinkKey(key: Record<string, unknown>): boolean {
  return typeof key[T.partitionKey] === 'string' && (key[T.partitionKey] as string).startsWith(LINK_PREFIX) && key[T.sortKey] === LINK_SK
}

/** The link id of a link item's key. */
export const linkIdOf = (key: Record<string, unknown>) => String(key[T.partitionKey]).slice(LINK_PREFIX.length)

/** When the item should disappear: never while linked (the backend still needs its credentials). */
export function ttlFor(link: Pick<Link, 'status' | 'expiresAt'>, now: Date): number | undefined {
  if (link.status === 'linked') return undefined
  const from = isFinal(link.status) ? now : new Date(link.expiresAt)
  return epochSeconds(from) + FINISHED_RETENTION_SECONDS
}

/** The activity index's sort key: by creation until a worker claims the link, then by its last heartbeat. */
export const activitySortKey = ({ heartbeatAt, createdAt }: Pick<Link, 'createdAt' | 'heartbeatAt'>) =>
  heartbeatAt ? `${ACTIVITY_SORT.claimed}${heartbeatAt}` : `${ACTIVITY_SORT.unclaimed}${createdAt}`

/** The activity index holds a link while it is in progress, in its shard (see store/table.ts). */
function activityAttributes(link: Pick<Link, 'id' | 'status' | 'createdAt' | 'heartbeatAt'>): Record<string, string | undefined> {
  if (!isInProgress(link.status)) return { [T.activityIndex.partitionKey]: undefined, [T.activityIndex.sortKey]: undefined }
  return { [T.activityIndex.partitionKey]: activityPartition(activityShard(link.id)), [T.activityIndex.sortKey]: activitySortKey(link) }
}

export function toItem(link: Link, now: Date): Record<string, unknown> {
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

/** A stored link item (a read, an index page, a stream record's image unmarshalled) as a Link. */
export function linkFromItem(item: Record<string, unknown>): Link
export function linkFromItem<L extends Partial<Link>>(item: Record<string, unknown>): L
export function linkFromItem(item: Record<string, unknown>): Link {
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
