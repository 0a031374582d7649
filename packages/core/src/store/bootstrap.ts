import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { createTableInput, tableDefinition } from './table.ts'

/** Creates the table (with its TTL attribute) if it is missing. Used locally and by tests. */
export async function ensureTable(doc: DynamoDBDocumentClient, tableName: string): Promise<void> {
  const client = doc as unknown as DynamoDBClient
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }))
    return
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException) && (error as Error).name !== 'ResourceNotFoundException') throw error
  }
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)))
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error
  }
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: tableName })
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: tableDefinition.ttlAttribute, Enabled: true },
    }),
  )
}
