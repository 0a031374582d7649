import { selectKeyProvider } from '@wa-link-broker/core/crypto'
import { createLogger } from '@wa-link-broker/core/logger'
import { loadWebhookConfig } from './config.ts'
import { buildWebhookDelivery } from './webhooks/delivery.ts'
import { parseDeliverRequest } from './webhooks/handoff.ts'

// The webhook delivery function (sst.config.ts "WebhookDeliver"): invoked asynchronously by the
// stream subscriber with `{ linkIds }`, it serves those links' queues with the same dispatcher as the
// retry Cron (in order, one holder per link). It never throws: what it does not deliver stays due for
// the Cron, which is the retry path (so Lambda's own async retries are off). Built once per instance.
const { runtime: config, keySource, logLevel } = loadWebhookConfig()
const logger = createLogger({ name: 'webhook-deliver', level: logLevel })
const delivery = buildWebhookDelivery({ config, keys: selectKeyProvider(config, keySource), local: false, logger })

export async function handler(event: unknown): Promise<{ links: number }> {
  const linkIds = parseDeliverRequest(event)
  if (!linkIds) {
    logger.error('not a webhook delivery request ({ linkIds }); ignored')
    return { links: 0 }
  }
  const started = Date.now()
  const served = await delivery.dispatcher.processLinks(linkIds)
  logger.info({ links: linkIds.length, served, ms: Date.now() - started }, 'webhook deliveries done')
  return { links: linkIds.length }
}
