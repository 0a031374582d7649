import { OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import type { AppDeps, AppEnv } from './deps.ts'
import { requireJsonBody } from './content-type.ts'
import { browserCors } from './cors.ts'
import { errorResponse, handleError } from './errors.ts'
import { requestLog } from './request-log.ts'
import { brandingRoutes } from './routes/branding.ts'
import { demoRoutes } from './routes/demo.ts'
import { linkRoutes } from './routes/links.ts'
import { pageRoutes } from './routes/page.ts'
import { qrRoutes } from './routes/qr.ts'
import { sessionRoutes } from './routes/session.ts'
import { systemRoutes } from './routes/system.ts'
import { webhookRoutes } from './routes/webhooks.ts'

export const MAX_BODY_BYTES = 64 * 1024

const OPENAPI_CONFIG = {
  openapi: '3.1.0',
  info: { title: 'wa-link-broker', version: '1.0.0', description: 'Link WhatsApp companion devices for your SaaS.' },
}

/** The one app object: served by @hono/node-server locally and by hono/aws-lambda in AWS. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>()
  app.use('*', requestLog(deps.logger))
  app.use('/v1/*', browserCors())
  app.use('/v1/*', async (c, next) => {
    await next()
    c.header('Cache-Control', 'no-store')
  })
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => {
        // The rest of the body is never read: close the connection so that a keep-alive client does
        // not send its next request into a socket still carrying unread bytes (RFC 9110 §15.5.14).
        c.header('Connection', 'close')
        return errorResponse(c, 413, 'payload_too_large', `The body must be at most ${MAX_BODY_BYTES} bytes.`)
      },
    }),
  )
  app.use('/v1/*', requireJsonBody)

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A tenant API key (`wlb_…`), or for reading one link, its client token (`lct_…`).',
  })
  app.route('/', linkRoutes(deps))
  app.route('/', qrRoutes(deps))
  app.route('/', sessionRoutes(deps))
  app.route('/', brandingRoutes(deps))
  app.route('/', webhookRoutes(deps))
  app.doc31('/openapi.json', OPENAPI_CONFIG)
  app.route('/', systemRoutes(() => app.getOpenAPI31Document(OPENAPI_CONFIG) as never))
  app.route('/', pageRoutes(deps))
  if (deps.local) app.route('/', demoRoutes(deps))

  app.notFound((c) => errorResponse(c, 404, 'not_found', 'No such route.'))
  app.onError(handleError(deps.logger))
  return app
}

export type App = ReturnType<typeof createApp>
