import { z } from '@hono/zod-openapi'
import { WEBHOOK_EVENT_TYPES } from '@wa-link-broker/core/webhooks'
import { LinkSchema } from '../schemas.ts'

const iso = z.string().openapi({ format: 'date-time' })

export const WebhookSecretSchema = z
  .object({ secret: z.string().openapi({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'Verify deliveries with any Standard Webhooks library. Keep it secret.' }) })
  .openapi('WebhookSecret')

export const WebhookEventSchema = z
  .object({
    id: z.string().openapi({ example: 'evt_2m9x7c4b1n6h5j0r2t8w8v3k0q', description: 'Also the `webhook-id` header of every delivery of this event.' }),
    type: z.enum(WEBHOOK_EVENT_TYPES),
    timestamp: iso.openapi({ description: 'When the change happened (the body\'s `timestamp`).' }),
    state: z.enum(['pending', 'delivered', 'failed']).openapi({ description: '`pending`: an attempt is due at `nextAttemptAt`; `failed`: given up (retries used up, or 410 Gone).' }),
    attempts: z.number().int(),
    lastHttpStatus: z.number().int().nullable().openapi({ description: "The receiver's status on the last attempt; null when there was no answer." }),
    lastError: z
      .enum(['timeout', 'address_refused', 'invalid_url', 'network_error', 'http_error', 'gone'])
      .nullable()
      .openapi({ description: 'Why the last attempt did not deliver: no answer within 10 s, an address that is not public, a refused connection, a non-2xx answer, or 410 Gone (which stops the link\'s deliveries).' }),
    lastAttemptAt: iso.nullable(),
    nextAttemptAt: iso.nullable(),
    deliveredAt: iso.nullable(),
  })
  .openapi('WebhookEvent')

export const WebhookEventListSchema = z.object({ events: z.array(WebhookEventSchema) }).openapi('WebhookEventList')

export const EventParamsSchema = z.object({
  id: z.string().max(64).openapi({ param: { name: 'id', in: 'path' } }),
  eventId: z.string().max(64).openapi({ param: { name: 'eventId', in: 'path' } }),
})

/** The body of every delivery (`webhookBody` renders it). */
export const WebhookPayloadSchema = z
  .object({
    type: z.enum(WEBHOOK_EVENT_TYPES).openapi({ description: '`link.<status>` on each status change; `link.qr_updated` / `link.pairing_code_updated` for a new QR or code within a status.' }),
    timestamp: iso.openapi({ description: 'When the change happened; equals `data.link.updatedAt`, so a receiver can drop an event older than one it already has.' }),
    data: z.object({ link: LinkSchema.openapi({ description: 'The link as `GET /v1/links/{id}` showed it right after the change.' }) }),
  })
  .openapi('WebhookPayload')

/** The Standard Webhooks headers of every delivery. */
export const WebhookHeadersSchema = z.object({
  'webhook-id': z.string().openapi({ description: "The event's id: the same on every attempt, so a receiver can drop a duplicate." }),
  'webhook-timestamp': z.string().openapi({ description: 'When this attempt was signed, in seconds since the epoch.' }),
  'webhook-signature': z.string().openapi({ description: '`v1,<base64 HMAC-SHA256>` of `<id>.<timestamp>.<body>` with the tenant secret; during a rotation, two of them, space-separated.' }),
})
