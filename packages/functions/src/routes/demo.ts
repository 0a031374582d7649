import { Hono } from 'hono'
import { html } from 'hono/html'
import { z } from 'zod'
import { DEFAULT_TTL_SECONDS, normalizePhoneNumber, toLinkView, ValidationError } from '@wa-link-broker/core'
import type { AppDeps, AppEnv } from '../deps.ts'
import { ASSETS } from '../page/assets.generated.ts'
import { linkPageUrl } from '../page/url.ts'
import { errorResponse, validationFailed } from '../errors.ts'

/** The tenant `npm start` seeds a key for, and the one the demo starts links as. */
export const LOCAL_DEV_TENANT = 'dev'

const DemoLinkSchema = z.strictObject({
  method: z.enum(['qr', 'code']).default('qr'),
  phoneNumber: z.string().max(40).optional(),
})

const DEMO_CSP = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-src 'self'", "img-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"].join('; ')

function demoHtml(simulator: boolean) {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>wa-link-broker demo</title>
<link rel="stylesheet" href="${ASSETS.demoStyle.path}">
<script src="${ASSETS.demoScript.path}" defer></script>
</head>
<body>
<header><h1>wa-link-broker demo</h1><p>This page is your SaaS. It asks its backend for a link (here: the local service itself, as the <code>dev</code> tenant; the page never sees an API key) and embeds the hosted link page.</p></header>
<div class="layout">
<form id="start" class="panel">
<h2>Start a link</h2>
<fieldset><legend>Method</legend>
<label><input type="radio" name="method" value="qr" checked> QR code</label>
<label><input type="radio" name="method" value="code"> Pairing code</label>
</fieldset>
<label id="phone-row">Phone number (for a code)<input name="phoneNumber" type="tel" placeholder="+1 555 000 1234" autocomplete="off"></label>
<div class="buttons"><button type="submit">Start link</button><button type="button" id="cancel" disabled>Cancel link</button></div>
${simulator ? html`<div class="buttons"><button type="button" id="simulate" disabled>Scan / enter the code with the simulated phone</button></div>` : ''}
<p id="error" class="error" role="alert"></p>
<h3>What the backend did</h3>
<pre><code>const broker = new WaLinkClient({ baseUrl, apiKey })
const { link, pageUrl } = await broker.createLink({ method })
// send the user to pageUrl, or embed it:
iframe.src = pageUrl</code></pre>
${simulator ? '' : html`<p class="hint">No phone? Run <code>npm run sim</code> and start this service the way it prints (with <code>SIM_CONTROL_URL</code>): a button here then scans with the simulated phone.</p>`}
</form>
<section class="panel preview">
<h2>The hosted page <span id="link-id" class="muted"></span></h2>
<iframe id="frame" title="Hosted link page" hidden></iframe>
<p id="placeholder" class="muted">Start a link to see the page here.</p>
</section>
</div>
</body></html>`
}

/** `/demo`, in local mode only: a SaaS page that starts a link through its backend and embeds the hosted page. */
export function demoRoutes({ links, simulatorControlUrl }: AppDeps) {
  const app = new Hono<AppEnv>()
  app.get('/demo', (c) => {
    c.header('Content-Security-Policy', DEMO_CSP)
    c.header('Cache-Control', 'no-store')
    return c.html(demoHtml(Boolean(simulatorControlUrl)))
  })
  // JSON only: a cross-site form cannot send it without a CORS preflight, which this never grants.
  app.post('/demo/links', async (c) => {
    if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) return errorResponse(c, 415, 'unsupported_media_type', 'Send the body as application/json.')
    const parsed = DemoLinkSchema.safeParse(await c.req.json().catch(() => null))
    if (!parsed.success) return validationFailed(c, parsed.error, 'body')
    const { method, phoneNumber } = parsed.data
    if (method === 'code' && !phoneNumber) throw new ValidationError('phoneNumber', 'is required when method is "code"')
    const { link, clientToken } = await links.create(LOCAL_DEV_TENANT, {
      method,
      phoneNumber: phoneNumber ? normalizePhoneNumber(phoneNumber) : null,
      webhookUrl: null,
      metadata: { source: 'demo' },
      ttlSeconds: DEFAULT_TTL_SECONDS,
    })
    c.header('Cache-Control', 'no-store')
    return c.json({ linkId: link.id, pageUrl: linkPageUrl(new URL(c.req.url).origin, link.id, clientToken) }, 201)
  })
  app.post('/demo/links/:id/cancel', async (c) => {
    if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) return errorResponse(c, 415, 'unsupported_media_type', 'Send the body as application/json.')
    await links.cancel(LOCAL_DEV_TENANT, c.req.param('id'))
    return c.json({ ok: true })
  })
  // The simulated phone "scans" the QR on screen, or types the code: what a person would do.
  app.post('/demo/links/:id/simulate', async (c) => {
    if (!simulatorControlUrl) return errorResponse(c, 404, 'not_found', 'Start npm start with SIM_CONTROL_URL to use the simulator.')
    if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) return errorResponse(c, 415, 'unsupported_media_type', 'Send the body as application/json.')
    const view = toLinkView(await links.read({ kind: 'tenant', tenantId: LOCAL_DEV_TENANT }, c.req.param('id')))
    const [path, body] = view.pairingCode
      ? ['/enter-code', { phoneNumber: view.phoneNumber, code: view.pairingCode.code }]
      : view.qr
        ? ['/scan', { qr: view.qr.value }]
        : [null, null]
    if (!path) return errorResponse(c, 409, 'wrong_state', `Nothing to scan or type yet (the link is ${view.status}).`)
    const res = await fetch(new URL(path, simulatorControlUrl), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    if (!res.ok) return errorResponse(c, 502, 'simulator_error', `The simulator answered ${res.status}.`)
    return c.json({ ok: true })
  })
  return app
}
