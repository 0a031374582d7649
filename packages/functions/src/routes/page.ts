import { Hono } from 'hono'
import { NO_BRANDING } from '@wa-link-broker/core/branding'
import type { AppDeps, AppEnv } from '../deps.ts'
import { ASSETS } from '../page/assets.generated.ts'
import { linkPageHtml } from '../page/html.ts'
import { LINK_PAGE_PATH } from '../page/url.ts'

/**
 * The page's Content-Security-Policy: its own script and style only, no inline code, API calls to
 * its own origin only, images only from the origin of its tenant's logo, nothing else loaded. Any
 * site may frame it (SaaS apps embed it); it holds nothing a framing page could trick a person into
 * doing.
 */
export function linkPageCsp(logoUrl: string | null): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    `img-src ${logoUrl ? new URL(logoUrl).origin : "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
    'frame-ancestors *',
  ].join('; ')
}

const ASSET_BY_PATH = new Map<string, { type: string; body: string }>(Object.values(ASSETS).map((asset) => [asset.path, asset]))

/** `GET /link/{id}` (the hosted link page) and the content-hashed assets it and the demo load. */
export function pageRoutes({ links, branding }: AppDeps) {
  const app = new Hono<AppEnv>()
  app.get(LINK_PAGE_PATH, async (c) => {
    // The id in the path names the tenant whose logo the page may show; the token stays in the browser.
    const tenant = await links.ownerOf(c.req.param('id'))
    const { logoUrl } = tenant ? await branding.get(tenant) : NO_BRANDING
    c.header('Content-Security-Policy', linkPageCsp(logoUrl))
    c.header('Referrer-Policy', 'no-referrer')
    c.header('X-Content-Type-Options', 'nosniff')
    c.header('Cache-Control', 'no-store')
    return c.html(linkPageHtml())
  })
  app.get('/assets/:name', (c) => {
    const asset = ASSET_BY_PATH.get(c.req.path)
    if (!asset) return c.notFound()
    c.header('Content-Type', asset.type)
    c.header('Cache-Control', 'public, max-age=31536000, immutable')
    c.header('X-Content-Type-Options', 'nosniff')
    return c.body(asset.body)
  })
  return app
}
