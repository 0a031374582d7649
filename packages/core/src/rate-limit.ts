import { TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb'
import { RateLimitedError } from './errors.ts'
import { isConditionalCheckFailed } from './store/client.ts'
import { tableDefinition as T } from './store/table.ts'

/** One fixed-window counter: at most `limit` per `windowSeconds` for `subject`. */
export interface RateLimit {
  subject: string
  limit: number
  windowSeconds: number
  /** What is limited, for the 429's message ("links started by this tenant"). */
  what: string
}

const rateKey = (subject: string, windowSeconds: number, window: number) => ({ [T.partitionKey]: `RATE#${subject}#${windowSeconds}#${window}`, [T.sortKey]: 'RATE' })

/**
 * Fixed-window counters in the table, so a limit holds across every Lambda instance. Several limits
 * are taken together or not at all: a request refused by one of them uses up none of the others.
 */
export class RateLimiter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async consume(limits: readonly RateLimit[], now = new Date()): Promise<void> {
    if (limits.length === 0) return
    const seconds = now.getTime() / 1000
    const updates = limits.map((limit) => {
      const window = Math.floor(seconds / limit.windowSeconds)
      const windowEnd = (window + 1) * limit.windowSeconds
      return {
        limit,
        retryAfter: Math.max(1, Math.ceil(windowEnd - seconds)),
        update: {
          TableName: this.tableName,
          Key: rateKey(limit.subject, limit.windowSeconds, window),
          UpdateExpression: 'ADD #count :one SET #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': 'count', '#ttl': T.ttlAttribute },
          ExpressionAttributeValues: { ':one': 1, ':limit': limit.limit, ':ttl': windowEnd + limit.windowSeconds },
        },
      }
    })
    try {
      if (updates.length === 1) await this.doc.send(new UpdateCommand(updates[0].update))
      else await this.transact(updates.map(({ update }) => ({ Update: update })))
    } catch (error) {
      const refused = refusedIndexes(error, updates.length)
      if (!refused) throw error
      // The refusal that lasts longest decides when a retry can succeed.
      const worst = refused.map((i) => updates[i]).reduce((a, b) => (b.retryAfter > a.retryAfter ? b : a))
      throw new RateLimitedError(worst.retryAfter, `Too many ${worst.limit.what} (at most ${worst.limit.limit} ${per(worst.limit.windowSeconds)})`)
    }
  }

  /** Concurrent requests touching the same counters cancel each other's transactions: try again. */
  private async transact(items: NonNullable<TransactWriteCommandInput['TransactItems']>, attempts = 5): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }))
        return
      } catch (error) {
        const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []
        if (attempt >= attempts || !reasons.some((r) => r.Code === 'TransactionConflict')) throw error
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt))
      }
    }
  }
}

/** Which limits refused the write, or null when the failure was something else. */
function refusedIndexes(error: unknown, count: number): number[] | null {
  if (count === 1) return isConditionalCheckFailed(error) ? [0] : null
  if ((error as Error).name !== 'TransactionCanceledException') return null
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []
  const refused = reasons.flatMap((reason, i) => (reason.Code === 'ConditionalCheckFailed' ? [i] : []))
  // Cancelled for another reason (a conflicting concurrent transaction): not a refusal.
  return refused.length > 0 ? refused : null
}

function per(windowSeconds: number): string {
  if (windowSeconds === 60) return 'a minute'
  if (windowSeconds === 3600) return 'an hour'
  return `per ${windowSeconds} s`
}
