import { selectKeyProvider } from '@wa-link-broker/core/crypto'
import { createLogger } from '@wa-link-broker/core/logger'
import { toStreamChange } from '@wa-link-broker/core/webhooks'
import { loadWebhookConfig } from './config.ts'
import { buildWebhookDelivery } from './webhooks/delivery.ts'

// The table's stream subscriber (sst.config.ts, `LinkTable.subscribe`): turns each batch of stream
// records into webhook events, then makes their first delivery attempts. Retries are the Cron's.
// Built once per Lambda instance; warm invocations reuse clients, connections and unwrapped keys.
const { runtime: config, keySource, logLevel } = loadWebhookConfig()
const logger = createLogger({ name: 'webhook-stream', level: logLevel })
const delivery = buildWebhookDelivery({ config, keys: selectKeyProvider(config, keySource), local: false, logger })

/** What Lambda's DynamoDB event source sends (the parts read here). */
export interface DynamoDBStreamEvent {
  Records: { eventName?: string; dynamodb?: { Keys?: Record<string, unknown>; NewImage?: Record<string, unknown>; OldImage?: Record<string, unknown> } }[]
}

export async function handler(event: DynamoDBStreamEvent): Promise<{ records: number; links: number }> {
  // A table error throws: Lambda retries the batch, and recording is idempotent.
  const links = await delivery.record(event.Records.map((r) => toStreamChange(r as Parameters<typeof toStreamChange>[0])))
  // Delivery failures never fail the batch: they are recorded and retried on the event's schedule.
  await Promise.all(links.map((linkId) => delivery.dispatcher.processLink(linkId).catch((error) => logger.warn({ err: error, linkId }, 'webhook dispatch failed'))))
  return { records: event.Records.length, links: links.length }
}
