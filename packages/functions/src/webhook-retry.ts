import { selectKeyProvider } from '@wa-link-broker/core/crypto'
import { createLogger } from '@wa-link-broker/core/logger'
import { loadWebhookConfig } from './config.ts'
import { buildWebhookDelivery } from './webhooks/delivery.ts'

// The retry schedule's driver (sst.aws.CronV2 "WebhookRetry", once a minute): serves every link
// whose webhook queue is due, found through the table's index.
const { runtime: config, keySource, logLevel } = loadWebhookConfig()
const logger = createLogger({ name: 'webhook-retry', level: logLevel })
const delivery = buildWebhookDelivery({ config, keys: selectKeyProvider(config, keySource), local: false, logger })

export async function handler(): Promise<{ links: number }> {
  const started = Date.now()
  const links = await delivery.dispatcher.processDue()
  logger.info({ links, ms: Date.now() - started }, 'webhook retries done')
  return { links }
}
