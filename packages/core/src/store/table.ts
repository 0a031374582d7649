import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb'

/**
 * The single table's shape. The local bootstrap, the tests and `sst.config.ts` all read it from
 * here so that the three can never drift apart.
 */
export const tableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Per-tenant listing, newest first: gsi1pk = TENANT#<id>, gsi1sk = <createdAt ISO>#<linkId>. */
  tenantIndex: { name: 'byTenant', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /**
   * Sparse: only links in progress carry it. gsi2pk = ACTIVE, gsi2sk = the last sign of life (creation
   * or worker heartbeat), so the sweeper finds links whose worker died without scanning the table.
   */
  activityIndex: { name: 'byActivity', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  /** Epoch seconds after which DynamoDB deletes the item by itself. */
  ttlAttribute: 'ttl',
} as const

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
      Projection: { ProjectionType: 'ALL' as const },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  }
}
