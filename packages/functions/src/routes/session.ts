import { createRoute } from '@hono/zod-openapi'
import { authenticate, tenantOf } from '../auth.ts'
import type { AppDeps } from '../deps.ts'
import { toLinkView } from '../link-view.ts'
import { bearerSecurity, newRouter } from '../router.ts'
import { CredentialsSchema, errorResponses, LinkIdParamSchema, LinkSchema, PairingCodeBodySchema } from '../schemas.ts'

/** The parts of a link that touch the WhatsApp session itself: switching to a code, credentials. */
export function sessionRoutes({ links, apiKeys }: AppDeps) {
  const tenantOnly = authenticate(apiKeys, { clientToken: false })
  const app = newRouter()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/links/{id}/pairing-code',
      summary: 'Switch a running QR link to a pairing code',
      description: 'The code appears on the link (`pairingCode`, status `awaiting_code`) within a poll or two. The QR stays usable meanwhile.',
      security: bearerSecurity,
      middleware: [tenantOnly] as const,
      request: { params: LinkIdParamSchema, body: { content: { 'application/json': { schema: PairingCodeBodySchema } }, required: true } },
      responses: {
        202: { description: 'Requested; poll the link for the code.', content: { 'application/json': { schema: LinkSchema } } },
        ...errorResponses(400, 401, 404, 409, 415),
      },
    }),
    async (c) => {
      const link = await links.requestPairingCode(tenantOf(c.var.principal), c.req.valid('param').id, c.req.valid('json').phoneNumber)
      return c.json(toLinkView(link), 202)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/links/{id}/credentials',
      summary: "The linked session's auth state",
      description: 'For the backend to run its own Baileys socket. Tenant key only; linked links only. Treat the answer as a secret.',
      security: bearerSecurity,
      middleware: [tenantOnly] as const,
      request: { params: LinkIdParamSchema },
      responses: {
        200: { description: 'Credentials in Baileys BufferJSON form.', content: { 'application/json': { schema: CredentialsSchema } } },
        ...errorResponses(401, 404, 409),
      },
    }),
    async (c) => {
      const { link, state } = await links.credentials(tenantOf(c.var.principal), c.req.valid('param').id)
      return c.json({ linkId: link.id, account: link.account, creds: state.creds as Record<string, unknown>, keys: state.keys }, 200)
    },
  )
  return app
}
