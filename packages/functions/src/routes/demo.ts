import { Hono } from 'hono'
import type { AppDeps, AppEnv } from '../deps.ts'
import { requireJson } from '../content-type.ts'
import { DEMO_CSP, demoHtml, returnHtml } from '../demo/html.ts'
import { actAsThePhone } from '../demo/simulator.ts'
import { errorResponse, validationFailed } from '../errors.ts'
import { toLinkView } from '../link-view.ts'
import { linkPageUrl } from '../page/url.ts'
import { brandingBodySchema, brandingOf, createLinkBodySchema } from '../schemas.ts'

/** The tenant `npm start` seeds a key for, and the one the demo starts links as. */
export const LOCAL_DEV_TENANT = 'dev'

/** What the demo's form sends: a part of POST /v1/links, validated as the API validates it. */
const DemoLinkSchema = createLinkBodySchema(true).pick({ method: true, phoneNumber: true, redirectUrl: true })

/**
 * `/demo`, in local mode only: a SaaS page that starts a link through its backend (these routes,
 * acting as the dev tenant, so the page never holds an API key) and embeds the hosted page.
 */
export function demoRoutes({ links, branding, simulatorControlUrl }: AppDeps) {
  const app = new Hono<AppEnv>()
  app.get('/demo', (c) => {
    c.header('Content-Security-Policy', DEMO_CSP)
    c.header('Cache-Control', 'no-store')
    return c.html(demoHtml(Boolean(simulatorControlUrl)))
  })
  app.get('/demo/return', (c) => {
    c.header('Content-Security-Policy', DEMO_CSP)
    return c.html(returnHtml(c.req.query()))
  })
  // Every POST is JSON only, so another site cannot act as the dev tenant through a visitor's browser.
  app.post('/demo/*', requireJson)
  app.post('/demo/links', async (c) => {
    const parsed = DemoLinkSchema.safeParse(await c.req.json().catch(() => null))
    if (!parsed.success) return validationFailed(c, parsed.error, 'body')
    const { link, clientToken } = await links.create(LOCAL_DEV_TENANT, { ...parsed.data, metadata: { source: 'demo' } })
    c.header('Cache-Control', 'no-store')
    return c.json({ linkId: link.id, pageUrl: linkPageUrl(new URL(c.req.url).origin, link.id, clientToken) }, 201)
  })
  // The brand of the dev tenant, through the same validation as PUT /v1/branding.
  app.post('/demo/branding', async (c) => {
    const parsed = brandingBodySchema(true).safeParse(await c.req.json().catch(() => null))
    if (!parsed.success) return validationFailed(c, parsed.error, 'body')
    return c.json(await branding.put(LOCAL_DEV_TENANT, brandingOf(parsed.data)))
  })
  app.post('/demo/links/:id/cancel', async (c) => {
    await links.cancel(LOCAL_DEV_TENANT, c.req.param('id'))
    return c.json({ ok: true })
  })
  // The simulated phone "scans" the QR on screen, or types the code: what a person would do.
  app.post('/demo/links/:id/simulate', async (c) => {
    if (!simulatorControlUrl) return errorResponse(c, 404, 'not_found', 'Start npm start with SIM_CONTROL_URL to use the simulator.')
    const view = toLinkView(await links.read({ kind: 'tenant', tenantId: LOCAL_DEV_TENANT }, c.req.param('id')))
    const acted = await actAsThePhone(simulatorControlUrl, view)
    if (acted.done) return c.json({ ok: true })
    if ('nothing' in acted) return errorResponse(c, 409, 'wrong_state', `Nothing to scan or type yet (the link is ${view.status}).`)
    return errorResponse(c, 502, 'simulator_error', `The simulator answered ${acted.refused}.`)
  })
  return app
}
