import { createRoute } from '@hono/zod-openapi'
import { authenticate, tenantOf } from '../auth.ts'
import type { AppDeps } from '../deps.ts'
import { bearerSecurity, newRouter } from '../router.ts'
import { brandingBodySchema, brandingOf, BrandingSchema, errorResponses, LinkIdParamSchema } from '../schemas.ts'

/** The tenant's brand on the hosted page: set with the tenant key, read by a link's page with its token. */
export function brandingRoutes({ links, branding, apiKeys, local }: AppDeps) {
  const tenantOnly = authenticate(apiKeys, { clientToken: false })
  const app = newRouter()
  const brand = { description: 'The brand (null fields: not set).', content: { 'application/json': { schema: BrandingSchema } } }

  app.openapi(
    createRoute({ method: 'get', path: '/v1/branding', summary: "The tenant's brand on the hosted page", security: bearerSecurity, middleware: [tenantOnly] as const, responses: { 200: brand, ...errorResponses(401) } }),
    async (c) => c.json(await branding.get(tenantOf(c.var.principal)), 200),
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/branding',
      summary: "Set the tenant's brand",
      description: 'Replaces the whole brand: a field left out or null is cleared.',
      security: bearerSecurity,
      middleware: [tenantOnly] as const,
      request: { body: { content: { 'application/json': { schema: brandingBodySchema(local) } }, required: true } },
      responses: { 200: brand, ...errorResponses(400, 401, 413, 415) },
    }),
    async (c) => c.json(await branding.put(tenantOf(c.var.principal), brandingOf(c.req.valid('json'))), 200),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/links/{id}/branding',
      summary: "The brand of the link's tenant (tenant key or its client token)",
      description: 'What the hosted page shows: always the brand of the tenant that owns the link.',
      security: bearerSecurity,
      middleware: [authenticate(apiKeys, { clientToken: true })] as const,
      request: { params: LinkIdParamSchema },
      responses: { 200: brand, ...errorResponses(401, 404) },
    }),
    async (c) => {
      const link = await links.read(c.var.principal, c.req.valid('param').id)
      return c.json(await branding.get(link.tenantId), 200)
    },
  )
  return app
}
