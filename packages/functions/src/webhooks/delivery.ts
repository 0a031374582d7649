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
  /** One attempt's bound (DELIVERY_TIMEOUT_MS unless given); the dispatcher's lease covers it. */
  timeoutMs?: number
}

export interface WebhookDelivery {
  dispatcher: WebhookDispatcher
  /** Records the events of a batch of stream records; returns the links with deliveries to make now. */
  record(changes: readonly StreamChange[]): Promise<string[]>
  /** Takes no new attempt, lets those under way finish (their outcome written), then ends connections. */
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
  const dispatcher = new WebhookDispatcher({ store, deliver: sender.deliver, attemptTimeoutMs: sender.timeoutMs, logger, schedule: options.schedule })
  return {
    dispatcher,
    record: (changes) => recordStreamChanges(changes, { store, logger }),
    async stop() {
      // In this order: closing the sender first would cut the attempts under way short, and they
      // would count as failures (retried later, though their receiver may have answered 2xx).
      dispatcher.stop()
      await dispatcher.drain()
      sender.close()
    },
  }
}
