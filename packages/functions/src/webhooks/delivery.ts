import type { ResolvedRuntimeConfig } from '@wa-link-broker/core/config'
import type { KeyProvider } from '@wa-link-broker/core/crypto'
import type { Logger } from '@wa-link-broker/core/logger'
import { createDocumentClient } from '@wa-link-broker/core/store'
import { recordStreamChanges, WebhookDispatcher, WebhookEventStore, WebhookSecretStore, type RetrySchedule, type StreamChange } from '@wa-link-broker/core/webhooks'
import { createWebhookSender } from './sender.ts'

export interface WebhookDeliveryOptions {
  config: Pick<ResolvedRuntimeConfig, 'tableName' | 'region' | 'dynamodbEndpoint'>
  /** Unwraps the tenants' signing secrets (KMS in AWS, the local master key otherwise). */
  keys: KeyProvider
  /** One machine: http:// and private addresses allowed (see outboundPolicy). */
  local: boolean
  logger: Logger
  /** The retry schedule; the default is DEFAULT_RETRY_SCHEDULE (tests make it seconds long). */
  schedule?: RetrySchedule
  timeoutMs?: number
}

export interface WebhookDelivery {
  dispatcher: WebhookDispatcher
  /** Records the events of a batch of stream records; returns the links with deliveries to make now. */
  record(changes: readonly StreamChange[]): Promise<string[]>
  /** Stops the dispatcher and ends connections; an attempt cut short is retried later. */
  stop(): Promise<void>
}

/** The composition every webhook driver shares: the stream Lambda, the retry cron, the local runner. */
export function buildWebhookDelivery(options: WebhookDeliveryOptions): WebhookDelivery {
  const { config, logger } = options
  const doc = createDocumentClient(config)
  const tableName = config.tableName
  const store = new WebhookEventStore(doc, tableName)
  const secrets = new WebhookSecretStore(doc, tableName, options.keys)
  const sender = createWebhookSender({ local: options.local, timeoutMs: options.timeoutMs, signingSecrets: (tenantId) => secrets.signingSecrets(tenantId) })
  const dispatcher = new WebhookDispatcher({ store, deliver: sender.deliver, logger, schedule: options.schedule })
  return {
    dispatcher,
    record: (changes) => recordStreamChanges(changes, { store, logger }),
    async stop() {
      dispatcher.stop()
      sender.close()
      await dispatcher.drain()
    },
  }
}
