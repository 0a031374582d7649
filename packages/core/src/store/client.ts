import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb'
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

export type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>

/** Why each item of a cancelled transaction was refused (DynamoDB's `CancellationReasons`), or null. */
export function cancellationCodes(error: unknown): (string | undefined)[] | null {
  if ((error as Error)?.name !== 'TransactionCanceledException') return null
  return ((error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((reason) => reason.Code)
}

/**
 * One transaction, tried again when only a concurrent transaction on the same items cancelled it
 * (`TransactionConflict`: hot items such as a tenant's counters see that under bursts).
 */
export async function transactWrite(doc: DynamoDBDocumentClient, items: TransactItems, attempts = 6): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await doc.send(new TransactWriteCommand({ TransactItems: items }))
      return
    } catch (error) {
      const codes = cancellationCodes(error)
      const conflictOnly = codes !== null && codes.includes('TransactionConflict') && !codes.includes('ConditionalCheckFailed')
      if (attempt >= attempts || !conflictOnly) throw error
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * attempt))
    }
  }
}
