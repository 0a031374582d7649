import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { ResolvedRuntimeConfig } from '../runtime-config.ts'

/** Where DynamoDB is: the endpoint is set only locally (DynamoDB Local); in AWS the SDK finds it. */
export type StoreConnection = Partial<Pick<ResolvedRuntimeConfig, 'region' | 'dynamodbEndpoint'>>

export function createDocumentClient(connection: StoreConnection): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: connection.region ?? 'us-east-1',
    ...(connection.dynamodbEndpoint
      ? { endpoint: connection.dynamodbEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  })
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  })
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException'
}
