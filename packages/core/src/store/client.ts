import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'

export interface StoreConnection {
  tableName: string
  region?: string
  /** Set only locally (DynamoDB Local); in AWS the SDK finds the regional endpoint. */
  endpoint?: string
}

export function createDocumentClient(connection: StoreConnection): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: connection.region ?? 'us-east-1',
    ...(connection.endpoint
      ? { endpoint: connection.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  })
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  })
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException'
}
