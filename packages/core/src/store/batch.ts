import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'

/**
 * BatchGetItem and BatchWriteItem over any number of items: split into DynamoDB's per-request
 * limits, several requests at once, and what DynamoDB leaves unprocessed (it is throttling) sent
 * again with a growing, jittered wait, until a bound.
 */

/** DynamoDB's own per-request limits. */
const BATCH_GET_LIMIT = 100
const BATCH_WRITE_LIMIT = 25
/** How many batch requests of one call run at once; Baileys uploads ~800 pre-keys in one set(). */
const BATCH_PARALLELISM = 8
const MAX_BATCH_ATTEMPTS = 10

type Item = Record<string, unknown>

export interface BatchGetOptions {
  /** Read only these attributes (`ProjectionExpression`), with their `#name`s. */
  projection?: { expression: string; names?: Record<string, string> }
}

/** Reads the items of `keys` (strongly consistent); missing items are simply absent, in no particular order. */
export async function batchGet(doc: DynamoDBDocumentClient, tableName: string, keys: Item[], options: BatchGetOptions = {}): Promise<Item[]> {
  const items: Item[] = []
  const projection = options.projection && { ProjectionExpression: options.projection.expression, ExpressionAttributeNames: options.projection.names }
  await inParallel(chunk(keys, BATCH_GET_LIMIT), async (batch) => {
    let pending = batch
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 1) await backoff(attempt, 'BatchGetItem', pending.length)
      const out = await doc.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true, ...projection } } }))
      items.push(...(out.Responses?.[tableName] ?? []))
      pending = out.UnprocessedKeys?.[tableName]?.Keys ?? []
    }
  })
  return items
}

/** Sends `PutRequest` / `DeleteRequest`s. */
export async function batchWrite(doc: DynamoDBDocumentClient, tableName: string, requests: Item[]): Promise<void> {
  await inParallel(chunk(requests, BATCH_WRITE_LIMIT), async (batch) => {
    let pending = batch
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 1) await backoff(attempt, 'BatchWriteItem', pending.length)
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }))
      pending = (out.UnprocessedItems?.[tableName] ?? []) as Item[]
    }
  })
}

/** Unprocessed items mean the table is throttling us: wait longer each time, and give up eventually. */
async function backoff(attempt: number, operation: string, left: number): Promise<void> {
  if (attempt > MAX_BATCH_ATTEMPTS) throw new Error(`${operation} left ${left} items unprocessed after ${MAX_BATCH_ATTEMPTS} attempts.`)
  const ceiling = Math.min(2000, 25 * 2 ** attempt)
  await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)))
}

function chunk<V>(values: V[], size: number): V[][] {
  const chunks: V[][] = []
  for (let i = 0; i < values.length; i += size) chunks.push(values.slice(i, i + size))
  return chunks
}

async function inParallel<V>(values: V[], work: (value: V) => Promise<void>): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < values.length) await work(values[next++])
  }
  await Promise.all(Array.from({ length: Math.min(BATCH_PARALLELISM, values.length) }, lane))
}
