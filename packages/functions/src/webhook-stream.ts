import { createLogger } from '@wa-link-broker/core/logger'
import { createDocumentClient } from '@wa-link-broker/core/store'
import { recordStreamChanges, toStreamChange, WebhookEventStore } from '@wa-link-broker/core/webhooks'
import { loadWebhookStreamConfig } from './config.ts'
import { createDeliveryHandoff } from './webhooks/handoff.ts'

// The table's stream subscriber (sst.config.ts, `LinkTable.subscribe`): records the webhook events of
// each batch of stream records, hands the links that have deliveries to make to the delivery function
// (WebhookDeliver, an asynchronous Invoke) and returns. It never waits for a receiver: Lambda runs a
// shard's batches one at a time, so a slow receiver here would hold back every other link on the
// shard. Retries are the Cron's. Built once per Lambda instance.
const { runtime: config, logLevel, deliverFunction } = loadWebhookStreamConfig()
const logger = createLogger({ name: 'webhook-stream', level: logLevel })
const store = new WebhookEventStore(createDocumentClient(config), config.tableName)
const handOff = createDeliveryHandoff({ functionName: deliverFunction, region: config.region, logger })

/** What Lambda's DynamoDB event source sends (the parts read here). */
export interface DynamoDBStreamEvent {
  Records: { eventName?: string; dynamodb?: { Keys?: Record<string, unknown>; NewImage?: Record<string, unknown>; OldImage?: Record<string, unknown> } }[]
}

export async function handler(event: DynamoDBStreamEvent): Promise<{ records: number; links: number }> {
  // A table error throws: Lambda retries the batch, and recording is idempotent.
  const links = await recordStreamChanges(event.Records.map((r) => toStreamChange(r as Parameters<typeof toStreamChange>[0])), { store, logger })
  // A failed hand-off never fails the batch: the events are recorded and due, so the retry Cron serves them.
  if (links.length) await handOff(links)
  return { records: event.Records.length, links: links.length }
}
