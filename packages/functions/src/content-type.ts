import type { Context, MiddlewareHandler } from 'hono'
import { errorResponse } from './errors.ts'

/** `application/json`, or a `+json` type, with or without parameters. */
export function isJsonContentType(header: string | undefined): boolean {
  return /^application\/([a-z.-]+\+)?json\s*(;|$)/i.test(header ?? '')
}

const unsupported = (c: Context) => errorResponse(c, 415, 'unsupported_media_type', 'Send the body as application/json.')

/** A request that carries a body must say it is JSON: 415 otherwise, before anything parses it. */
export const requireJsonBody: MiddlewareHandler = async (c, next) => {
  if (c.req.method !== 'POST' && c.req.method !== 'PUT' && c.req.method !== 'PATCH') return next()
  const length = c.req.header('content-length')
  const hasBody = (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined
  const type = c.req.header('content-type')
  if ((hasBody || type) && !isJsonContentType(type)) return unsupported(c)
  return next()
}

/**
 * Every request says it is JSON, body or not: a cross-site form cannot send that without a CORS
 * preflight, so a page of another site cannot make a visitor's browser call these routes.
 */
export const requireJson: MiddlewareHandler = async (c, next) => (isJsonContentType(c.req.header('content-type')) ? next() : unsupported(c))
