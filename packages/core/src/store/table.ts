import type { CreateTableCommandInput, Projection } from '@aws-sdk/client-dynamodb'
import { LINK_VIEW_FIELDS } from '../link/link.ts'

/**
 * The single table's shape. The local bootstrap, the tests and `sst.config.ts` all read it from
 * here so that the three can never drift apart. docs/deploy.md gives the write/read arithmetic
 * behind each index's projection.
 */
export const tableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /**
   * Per-tenant listing, newest first: gsi1pk = TENANT#<id>, gsi1sk = <createdAt ISO>#<linkId>; the
   * API keys under gsi1pk = APIKEYS. It carries exactly what its readers use: a link's public view
   * (the list, and the per-tenant count of links in progress: status, expiresAt) and an API key's
   * record (`ApiKeyStore.list`). Heartbeats and lease/version bookkeeping are not projected, so
   * they never rewrite this index.
   */
  tenantIndex: {
    name: 'byTenant',
    partitionKey: 'gsi1pk',
    sortKey: 'gsi1sk',
    projection: [...LINK_VIEW_FIELDS, 'tenantId', 'keyId', 'hash', 'revokedAt'],
  },
  /**
   * Sparse: only links in progress carry it. Write-sharded so that heartbeats never pile onto one
   * partition: gsi2pk = ACTIVE#<n> (n from the link id, `activityShards` of them), gsi2sk =
   * P#<createdAt> while no worker has claimed the link, H#<last heartbeat> once one has. The
   * sweeper reads keys only (then the link itself, consistently), so nothing else is projected.
   */
  activityIndex: { name: 'byActivity', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', shards: 16, projection: 'KEYS_ONLY' },
  /** Epoch seconds after which DynamoDB deletes the item by itself. */
  ttlAttribute: 'ttl',
} as const

/** The activity index's two kinds of sort key: never claimed (by creation) and claimed (by last heartbeat). */
export const ACTIVITY_SORT = { unclaimed: 'P#', claimed: 'H#' } as const

/** FNV-1a: a link id's shard. Ids carry ≥128 random bits, so any stable hash spreads them evenly. */
export function activityShard(linkId: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < linkId.length; i++) hash = Math.imul(hash ^ linkId.charCodeAt(i), 0x01000193)
  return (hash >>> 0) % tableDefinition.activityIndex.shards
}

export const activityPartition = (shard: number) => `ACTIVE#${shard}`

/** Every activity partition, for readers that must see all links in progress. */
export const activityPartitions = () => Array.from({ length: tableDefinition.activityIndex.shards }, (_, n) => activityPartition(n))

function projection(p: readonly string[] | 'KEYS_ONLY' | 'ALL'): Projection {
  return typeof p === 'string' ? { ProjectionType: p } : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...p] }
}

export function createTableInput(tableName: string): CreateTableCommandInput {
  const d = tableDefinition
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: d.partitionKey, AttributeType: 'S' },
      { AttributeName: d.sortKey, AttributeType: 'S' },
      { AttributeName: d.tenantIndex.partitionKey, AttributeType: 'S' },
      { AttributeName: d.tenantIndex.sortKey, AttributeType: 'S' },
      { AttributeName: d.activityIndex.partitionKey, AttributeType: 'S' },
      { AttributeName: d.activityIndex.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: d.partitionKey, KeyType: 'HASH' },
      { AttributeName: d.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [d.tenantIndex, d.activityIndex].map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: projection(index.projection),
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  }
}
