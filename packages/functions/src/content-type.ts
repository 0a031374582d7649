import type { MiddlewareHandler } from 'hono'
import { errorResponse } from './errors.ts'

/** A request that carries a body must say it is JSON: 415 otherwise, before anything parses it. */
export const requireJsonBody: MiddlewareHandler = async (c, next) => {
  if (c.req.method !== 'POST' && c.req.method !== 'PUT' && c.req.method !== 'PATCH') return next()
  const length = c.req.header('content-length')
  const hasBody = (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined
  const type = c.req.header('content-type')
  if ((hasBody || type) && !/^application\/([a-z.-]+\+)?json\s*(;|$)/i.test(type ?? '')) {
    return errorResponse(c, 415, 'unsupported_media_type', 'Send the body as application/json.')
  }
  return next()
}
