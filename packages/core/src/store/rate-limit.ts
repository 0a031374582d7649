import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { RateLimitedError } from '../errors.ts'
import { cancellationCodes, isConditionalCheckFailed, transactWrite, type TransactItems } from './client.ts'
import { tableDefinition as T } from './table.ts'

/** One fixed-window counter: at most `limit` per `windowSeconds` for `subject`. */
export interface RateLimit {
  subject: string
  limit: number
  windowSeconds: number
  /** What is limited, for the 429's message ("links started by this tenant"). */
  what: string
}

/** The counter writes that take some limits, for a transaction of the caller's, and what a refusal of some of them means. */
export interface RateLimitWrites {
  items: TransactItems
  /** The 429 for the refused items (indexes into `items`): the refusal that lasts longest decides. */
  refusal(refused: number[]): RateLimitedError
}

const rateKey = (subject: string, windowSeconds: number, window: number) => ({ [T.partitionKey]: `RATE#${subject}#${windowSeconds}#${window}`, [T.sortKey]: 'RATE' })

/**
 * Fixed-window counters in the table, so a limit holds across every Lambda instance. Several limits
 * are taken together or not at all: a request refused by one of them uses up none of the others.
 * `writes()` hands the same counters to a caller that takes them in its own transaction (a create:
 * the link, its reservation and its counters are written together or not at all).
 */
export class RateLimiter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  writes(limits: readonly RateLimit[], now = new Date()): RateLimitWrites {
    const seconds = now.getTime() / 1000
    const counters = limits.map((limit) => {
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
    return {
      items: counters.map(({ update }) => ({ Update: update })),
      refusal(refused) {
        const worst = refused.map((i) => counters[i]).reduce((a, b) => (b.retryAfter > a.retryAfter ? b : a))
        return new RateLimitedError(worst.retryAfter, `Too many ${worst.limit.what} (at most ${worst.limit.limit} ${per(worst.limit.windowSeconds)})`)
      },
    }
  }

  async consume(limits: readonly RateLimit[], now = new Date()): Promise<void> {
    if (limits.length === 0) return
    const { items, refusal } = this.writes(limits, now)
    try {
      if (items.length === 1) await this.doc.send(new UpdateCommand(items[0].Update!))
      else await transactWrite(this.doc, items)
    } catch (error) {
      const refused = refusedIndexes(error, items.length)
      if (!refused) throw error
      throw refusal(refused)
    }
  }
}

/** Which items refused the write, or null when the failure was something else. */
function refusedIndexes(error: unknown, count: number): number[] | null {
  if (count === 1) return isConditionalCheckFailed(error) ? [0] : null
  const refused = (cancellationCodes(error) ?? []).flatMap((code, i) => (code === 'ConditionalCheckFailed' ? [i] : []))
  // Cancelled for another reason (a conflicting concurrent transaction): not a refusal.
  return refused.length > 0 ? refused : null
}

function per(windowSeconds: number): string {
  if (windowSeconds === 60) return 'a minute'
  if (windowSeconds === 3600) return 'an hour'
  return `per ${windowSeconds} s`
}
