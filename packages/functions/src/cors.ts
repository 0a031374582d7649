import type { MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import { etag, RETAINED_304_HEADERS } from 'hono/etag'

/**
 * CORS for browser apps polling with a client token: credentials travel as bearer headers, never
 * cookies, so any origin may call; the token is what grants access. This is the only CORS answer:
 * the Lambda Function URL's own CORS is off (sst.config.ts), or browsers would see the headers twice.
 */
export const browserCors = (): MiddlewareHandler =>
  cors({
    origin: '*',
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-None-Match'],
    exposeHeaders: ['Date', 'ETag', 'Location', 'Retry-After', 'Idempotent-Replayed', 'X-QR-Sequence', 'X-QR-Expires-At'],
    maxAge: 600,
  })

/** The CORS headers an actual (not preflight) response carries. */
export const CORS_RESPONSE_HEADERS = ['access-control-allow-origin', 'access-control-expose-headers'] as const

/**
 * `ETag` / `If-None-Match` → `304`. hono/etag keeps only the cache headers on a 304; a browser
 * polling from another origin also needs the CORS headers there, or it sees a network error.
 */
export const conditionalGet = (): MiddlewareHandler => etag({ retainedHeaders: [...RETAINED_304_HEADERS, ...CORS_RESPONSE_HEADERS] })
