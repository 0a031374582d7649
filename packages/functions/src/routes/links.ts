import { createRoute } from '@hono/zod-openapi'
import { authenticate, tenantOf } from '../auth.ts'
import { conditionalGet } from '../cors.ts'
import type { AppDeps } from '../deps.ts'
import { toLinkView } from '../link-view.ts'
import { linkPageUrl } from '../page/url.ts'
import { bearerSecurity, newRouter } from '../router.ts'
import {
  createLinkBodySchema,
  CreatedLinkSchema,
  errorResponses,
  IdempotencyHeaderSchema,
  LinkIdParamSchema,
  LinkListSchema,
  LinkSchema,
  ListQuerySchema,
} from '../schemas.ts'

export function linkRoutes({ links, apiKeys, local }: AppDeps) {
  const tenantOnly = authenticate(apiKeys, { clientToken: false })
  const tenantOrClient = authenticate(apiKeys, { clientToken: true })
  const app = newRouter()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/links',
      summary: 'Start a link',
      security: bearerSecurity,
      middleware: [tenantOnly] as const,
      request: {
        headers: IdempotencyHeaderSchema,
        body: { content: { 'application/json': { schema: createLinkBodySchema(local) } }, required: false },
      },
      responses: {
        201: { description: 'Created (or replayed under the same Idempotency-Key).', content: { 'application/json': { schema: CreatedLinkSchema } } },
        ...errorResponses(400, 401, 413, 415, 422, 429),
      },
    }),
    async (c) => {
      const tenantId = tenantOf(c.var.principal)
      const { link, clientToken, replayed } = await links.create(tenantId, c.req.valid('json'), c.req.valid('header')['idempotency-key'])
      if (replayed) c.header('Idempotent-Replayed', 'true')
      c.header('Location', `/v1/links/${link.id}`)
      return c.json({ link: toLinkView(link), clientToken, pageUrl: linkPageUrl(new URL(c.req.url).origin, link.id, clientToken) }, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/links/{id}',
      summary: 'Read a link (tenant key or its client token)',
      description: 'Sends an ETag; `If-None-Match` gives 304. Poll again after `pollAfterMs`.',
      security: bearerSecurity,
      middleware: [conditionalGet(), tenantOrClient] as const,
      request: { params: LinkIdParamSchema },
      responses: {
        200: { description: 'The link.', content: { 'application/json': { schema: LinkSchema } } },
        304: { description: 'Unchanged since the ETag sent in If-None-Match.' },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const link = await links.read(c.var.principal, c.req.valid('param').id)
      return c.json(toLinkView(link), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/links',
      summary: "The tenant's links, newest first",
      security: bearerSecurity,
      middleware: [tenantOnly] as const,
      request: { query: ListQuerySchema },
      responses: {
        200: { description: 'A page of links; pass `nextCursor` as `cursor` for the next.', content: { 'application/json': { schema: LinkListSchema } } },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const page = await links.list(tenantOf(c.var.principal), query)
      const now = new Date()
      return c.json({ links: page.links.map((link) => toLinkView(link, now)), nextCursor: page.nextCursor }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/links/{id}',
      summary: 'Cancel a link in progress, or log out and erase a linked one',
      security: bearerSecurity,
      middleware: [tenantOnly] as const,
      request: { params: LinkIdParamSchema },
      responses: {
        200: { description: 'The link, now cancelled (or already cancelled / unlinked).', content: { 'application/json': { schema: LinkSchema } } },
        202: { description: 'A linked link: the logout has started; it becomes `unlinked`.', content: { 'application/json': { schema: LinkSchema } } },
        ...errorResponses(401, 404, 409, 503),
      },
    }),
    async (c) => {
      const link = await links.cancel(tenantOf(c.var.principal), c.req.valid('param').id)
      return c.json(toLinkView(link), link.status === 'linked' ? 202 : 200)
    },
  )

  return app
}
