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
    ],
    KeySchema: [
      { AttributeName: d.partitionKey, KeyType: 'HASH' },
      { AttributeName: d.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: d.tenantIndex.name,
        KeySchema: [
          { AttributeName: d.tenantIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: d.tenantIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  }
}
