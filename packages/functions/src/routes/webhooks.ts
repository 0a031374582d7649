import { createRoute } from '@hono/zod-openapi'
import { MAX_SIGNING_SECRETS, ROTATION_OVERLAP_MS, TOO_MANY_ROTATIONS } from '@wa-link-broker/core/webhooks'
import { authenticate, tenantOf } from '../auth.ts'
import type { AppDeps } from '../deps.ts'
import { bearerSecurity, newRouter } from '../router.ts'
import { errorResponses, LinkIdParamSchema } from '../schemas.ts'
import { EventParamsSchema, WebhookEventListSchema, WebhookEventSchema, WebhookHeadersSchema, WebhookPayloadSchema, WebhookSecretSchema } from '../webhooks/schemas.ts'

/** The tenant's signing secret, and each link's delivery log. */
export function webhookRoutes({ links, webhooks, apiKeys }: AppDeps) {
  const tenantOnly = authenticate(apiKeys, { clientToken: false })
  const app = newRouter()

  // What the service sends: OpenAPI 3.1's `webhooks`, so generated clients type the payload too.
  app.openAPIRegistry.registerWebhook({
    method: 'post',
    path: 'link-event',
    summary: 'A link changed (sent to its webhookUrl)',
    description:
      'Signed per Standard Webhooks with the tenant secret (`GET /v1/webhook-secret`). Retried with backoff for over 24 h (8 attempts) until a 2xx; no answer within 10 s counts as a failure, and redirects are not followed. Events of one link arrive in order while the receiver answers.',
    request: { headers: WebhookHeadersSchema, body: { content: { 'application/json': { schema: WebhookPayloadSchema } }, required: true } },
    responses: {
      200: { description: 'Any 2xx: delivered.' },
      410: { description: "Gone: no more deliveries for this link until one of its events is redelivered." },
    },
  })

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/webhook-secret',
      summary: 'The webhook signing secret',
      description: 'Created on first read. Every delivery is signed with it per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).',
      security: bearerSecurity,
      middleware: [tenantOnly] as const,
      responses: { 200: { description: 'The current secret.', content: { 'application/json': { schema: WebhookSecretSchema } } }, ...errorResponses(401) },
    }),
    async (c) => c.json({ secret: await webhooks.secret(tenantOf(c.var.principal)) }, 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/webhook-secret/rotate',
      summary: 'Rotate the webhook signing secret',
      description: `A new secret. For ${ROTATION_OVERLAP_MS / 3600_000} h, deliveries carry signatures with both the old and the new one (space-separated in \`webhook-signature\`), so receivers can switch without missing one. Rotating again within that time keeps every earlier secret signing until its own ${ROTATION_OVERLAP_MS / 3600_000} h are up. At most ${MAX_SIGNING_SECRETS} secrets sign at once (the current one included): a rotation beyond that is refused with \`429\` \`${TOO_MANY_ROTATIONS}\` and a \`Retry-After\` of the seconds until the oldest retires.`,
      security: bearerSecurity,
      middleware: [tenantOnly] as const,
      responses: { 200: { description: 'The new secret.', content: { 'application/json': { schema: WebhookSecretSchema } } }, ...errorResponses(401, 415, 429) },
    }),
    async (c) => c.json({ secret: await webhooks.rotateSecret(tenantOf(c.var.principal)) }, 200),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/links/{id}/events',
      summary: "The link's webhook events and their delivery",
      description: 'Oldest first. Events exist for links created with a `webhookUrl`.',
      security: bearerSecurity,
      middleware: [tenantOnly] as const,
      request: { params: LinkIdParamSchema },
      responses: { 200: { description: 'The events.', content: { 'application/json': { schema: WebhookEventListSchema } } }, ...errorResponses(401, 404) },
    }),
    async (c) => {
      const link = await links.read({ kind: 'tenant', tenantId: tenantOf(c.var.principal) }, c.req.valid('param').id)
      return c.json({ events: await webhooks.events(link) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/links/{id}/events/{eventId}/redeliver',
      summary: 'Send an event again now',
      description: "The event becomes `pending` and is sent at once (after any earlier pending event of the link). After a `410 Gone`, this resumes the link's deliveries.",
      security: bearerSecurity,
      middleware: [tenantOnly] as const,
      request: { params: EventParamsSchema },
      responses: { 202: { description: 'Accepted; watch the event in GET …/events.', content: { 'application/json': { schema: WebhookEventSchema } } }, ...errorResponses(401, 404, 415) },
    }),
    async (c) => {
      const { id, eventId } = c.req.valid('param')
      const link = await links.read({ kind: 'tenant', tenantId: tenantOf(c.var.principal) }, id)
      return c.json(await webhooks.redeliver(link, eventId), 202)
    },
  )
  return app
}
