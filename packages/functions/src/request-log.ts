import type { MiddlewareHandler } from 'hono'
import type { Logger } from '@wa-link-broker/core/logger'

/**
 * One line a request: route pattern, status, time. Never headers or bodies, which carry secrets.
 * At debug: clients poll every second, so at info these lines would bury everything else.
 */
export function requestLog(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now()
    await next()
    logger.debug(
      { method: c.req.method, route: c.req.routePath, linkId: c.req.param('id'), status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    )
  }
}
