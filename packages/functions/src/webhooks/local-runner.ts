import { createDocumentClient } from '@wa-link-broker/core/store'
import { createStreamsClient, DynamoDBStreamReader } from '@wa-link-broker/core/webhooks/stream-reader'
import { buildWebhookDelivery, type WebhookDeliveryOptions } from './delivery.ts'

export interface LocalWebhooksOptions extends WebhookDeliveryOptions {
  /** How often due retries are looked for (the Cron's one minute in AWS). */
  retryEveryMs?: number
  /** The stream reader's wait between empty polls. */
  streamIdleMs?: number
}

export const DEFAULT_LOCAL_RETRY_EVERY_MS = 1000

/**
 * Webhooks on one machine (`npm start`, the tests): a reader of the table's stream in place of
 * the stream Lambda, and a timer in place of the retry Cron. Both drive the same delivery code.
 */
export async function startLocalWebhooks(options: LocalWebhooksOptions): Promise<{ stop(): Promise<void> }> {
  const delivery = buildWebhookDelivery(options)
  const reader = new DynamoDBStreamReader({
    streams: createStreamsClient(options.config),
    doc: createDocumentClient(options.config),
    tableName: options.config.tableName,
    logger: options.logger,
    idleMs: options.streamIdleMs,
    async onChanges(changes) {
      for (const linkId of await delivery.record(changes)) delivery.dispatcher.serveSoon(linkId)
    },
  })
  await reader.start().catch(async (error) => {
    await delivery.stop()
    throw error
  })
  const timer = setInterval(() => {
    delivery.dispatcher.processDue().catch((error) => options.logger.warn({ err: error }, 'webhook retry sweep failed'))
  }, options.retryEveryMs ?? DEFAULT_LOCAL_RETRY_EVERY_MS)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      await reader.stop()
      await delivery.stop()
    },
  }
}
