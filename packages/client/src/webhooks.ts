import { Webhook, WebhookVerificationError } from 'standardwebhooks'
import type { WebhookEvent } from './types.ts'

export { WebhookVerificationError }

/**
 * Checks a webhook delivery (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature`) against the tenant's secret (`whsec_…`, from `GET /v1/webhook-secret`) and
 * returns its parsed body. Pass the body exactly as received, as text. Throws
 * `WebhookVerificationError` for a wrong signature, a missing header or a timestamp more than five
 * minutes away; during a secret rotation, a delivery signed with either secret verifies.
 */
export function verifyWebhook(payload: string, headers: Headers | Record<string, string | string[] | undefined>, secret: string): WebhookEvent {
  const plain: Record<string, string> = {}
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    ;(headers as Headers).forEach((value, name) => (plain[name.toLowerCase()] = value))
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) plain[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
    }
  }
  return new Webhook(secret).verify(payload, plain) as WebhookEvent
}
