import { Hono } from 'hono'
import type { AppDeps, AppEnv } from '../deps.ts'
import { ASSETS } from '../page/assets.generated.ts'
import { linkPageHtml } from '../page/html.ts'
import { LINK_PAGE_PATH } from '../page/url.ts'

/**
 * The page's Content-Security-Policy: its own script and style only, no inline code, API calls to
 * its own origin only, nothing else loaded. Any site may frame it (SaaS apps embed it); it holds
 * nothing a framing page could trick a person into doing.
 */
export function linkPageCsp(): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    'frame-ancestors *',
  ].join('; ')
}

const ASSET_BY_PATH = new Map<string, { type: string; body: string }>(Object.values(ASSETS).map((asset) => [asset.path, asset]))

/** `GET /link/{id}` (the hosted link page) and the content-hashed assets it and the demo load. */
export function pageRoutes(_deps: AppDeps) {
  const app = new Hono<AppEnv>()
  app.get(LINK_PAGE_PATH, (c) => {
    c.header('Content-Security-Policy', linkPageCsp())
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
