import { createRoute, z } from '@hono/zod-openapi'
import QRCode from 'qrcode'
import { ConflictError } from '@wa-link-broker/core/errors'
import { authenticate } from '../auth.ts'
import type { AppDeps } from '../deps.ts'
import { qrImagePath, toLinkView } from '../link-view.ts'
import { ERROR_CORRECTION, QUIET_ZONE } from '../qr-code.ts'
import { bearerSecurity, newRouter } from '../router.ts'
import { errorResponses, LinkIdParamSchema } from '../schemas.ts'

const FORMATS = {
  svg: { type: 'image/svg+xml', render: (value: string) => QRCode.toString(value, { type: 'svg', errorCorrectionLevel: ERROR_CORRECTION, margin: QUIET_ZONE }) },
  png: { type: 'image/png', render: (value: string) => QRCode.toBuffer(value, { type: 'png', errorCorrectionLevel: ERROR_CORRECTION, margin: QUIET_ZONE, scale: 8 }) },
} as const

/** The current QR as an image, for apps and pages that would rather not render it themselves. */
export function qrRoutes({ links, apiKeys }: AppDeps) {
  const app = newRouter()
  for (const [format, { type, render }] of Object.entries(FORMATS)) {
    app.openapi(
      createRoute({
        method: 'get',
        path: qrImagePath('{id}', format as keyof typeof FORMATS),
        summary: `The current QR as ${format.toUpperCase()}`,
        security: bearerSecurity,
        middleware: [authenticate(apiKeys, { clientToken: true })] as const,
        request: { params: LinkIdParamSchema },
        responses: {
          200: { description: 'The QR image.', content: { [type]: { schema: z.string().openapi({ format: 'binary' }) } } },
          ...errorResponses(401, 404, 409),
        },
      }),
      async (c) => {
        const view = toLinkView(await links.read(c.var.principal, c.req.valid('param').id))
        if (!view.qr) throw new ConflictError('no_qr', `The link has no current QR (status ${view.status}).`)
        const image = await render(view.qr.value)
        c.header('X-QR-Sequence', String(view.qr.sequence))
        c.header('X-QR-Expires-At', view.qr.expiresAt)
        return c.body(typeof image === 'string' ? image : new Uint8Array(image), 200, { 'Content-Type': type })
      },
    )
  }
  return app
}
