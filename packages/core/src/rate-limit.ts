import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { RateLimitedError } from './errors.ts'
import { isConditionalCheckFailed } from './store/client.ts'
import { tableDefinition as T } from './store/table.ts'

/**
 * A fixed-window counter in the table, so the limit holds across every Lambda instance. Each new
 * link may start a Fargate task, which is what this protects.
 */
export class RateLimiter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly limit: number,
    private readonly windowSeconds = 60,
  ) {}

  async consume(subject: string, now = new Date()): Promise<void> {
    const window = Math.floor(now.getTime() / 1000 / this.windowSeconds)
    const windowEnd = (window + 1) * this.windowSeconds
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [T.partitionKey]: `RATE#${subject}#${window}`, [T.sortKey]: 'RATE' },
          UpdateExpression: 'ADD #count :one SET #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': 'count', '#ttl': T.ttlAttribute },
          ExpressionAttributeValues: { ':one': 1, ':limit': this.limit, ':ttl': windowEnd + this.windowSeconds },
        }),
      )
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error
      throw new RateLimitedError(Math.max(1, Math.ceil(windowEnd - now.getTime() / 1000)))
    }
  }
}
