import { Hono } from 'hono'
import { html } from 'hono/html'
import { z } from 'zod'
import { DEFAULT_TTL_SECONDS, normalizePhoneNumber, ValidationError } from '@wa-link-broker/core'
import type { AppDeps, AppEnv } from '../deps.ts'
import { toLinkView } from '../link-view.ts'
import { ASSETS } from '../page/assets.generated.ts'
import { linkPageUrl } from '../page/url.ts'
import { errorResponse, validationFailed } from '../errors.ts'
import { brandingBodySchema, webUrl } from '../schemas.ts'

/** The tenant `npm start` seeds a key for, and the one the demo starts links as. */
export const LOCAL_DEV_TENANT = 'dev'

const DemoLinkSchema = z.strictObject({
  method: z.enum(['qr', 'code']).default('qr'),
  phoneNumber: z.string().max(40).optional(),
  redirectUrl: webUrl(true).optional(),
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
<label>Return to (<code>redirectUrl</code>; empty for none)<input name="redirectUrl" type="text" id="redirect"></label>
<p id="error" class="error" role="alert"></p>
<h3>Your brand (<code>PUT /v1/branding</code>)</h3>
<label>Name<input name="brandName" type="text" maxlength="60" placeholder="Acme CRM"></label>
<label>Accent colour<input name="brandColor" type="text" placeholder="#0a7cff"></label>
<label>Logo URL (https)<input name="brandLogo" type="text" placeholder="https://…/logo.png"></label>
<label>Support URL (https)<input name="brandSupport" type="text" placeholder="https://…/help"></label>
<div class="buttons"><button type="button" id="brand">Save brand</button></div>
<h3>What the backend did</h3>
<pre><code>const broker = new WaLinkClient({ baseUrl, apiKey })
const { link, pageUrl } = await broker.createLink({ method, redirectUrl })
// send the user to pageUrl, or embed it:
iframe.src = pageUrl
onLinkPageMessage((m) => log(m), { origin: baseUrl })</code></pre>
${simulator ? '' : html`<p class="hint">No phone? Run <code>npm run sim</code> and start this service the way it prints (with <code>SIM_CONTROL_URL</code>): a button here then scans with the simulated phone.</p>`}
</form>
<section class="panel preview">
<h2>The hosted page <span id="link-id" class="muted"></span></h2>
<iframe id="frame" title="Hosted link page" hidden></iframe>
<p id="placeholder" class="muted">Start a link to see the page here.</p>
<p id="open-row" hidden><a id="open" target="_blank" rel="noopener">Open it in a tab</a> (outside a frame the page returns to the redirect URL when done)</p>
<h3>Messages from the frame (<code>onLinkPageMessage</code>)</h3>
<ol id="messages" class="messages"></ol>
</section>
</div>
</body></html>`
}

/** `/demo`, in local mode only: a SaaS page that starts a link through its backend and embeds the hosted page. */
export function demoRoutes({ links, branding, simulatorControlUrl }: AppDeps) {
  const app = new Hono<AppEnv>()
  app.get('/demo', (c) => {
    c.header('Content-Security-Policy', DEMO_CSP)
    c.header('Cache-Control', 'no-store')
    return c.html(demoHtml(Boolean(simulatorControlUrl)))
  })
  // Every POST is JSON only: a cross-site form cannot send that without a CORS preflight, which
  // this never grants, so another site cannot act as the dev tenant through a visitor's browser.
  app.post('/demo/*', async (c, next) => {
    if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) return errorResponse(c, 415, 'unsupported_media_type', 'Send the body as application/json.')
    return next()
  })
  app.post('/demo/links', async (c) => {
    const parsed = DemoLinkSchema.safeParse(await c.req.json().catch(() => null))
    if (!parsed.success) return validationFailed(c, parsed.error, 'body')
    const { method, phoneNumber } = parsed.data
    const redirectUrl = parsed.data.redirectUrl ?? null
    if (method === 'code' && !phoneNumber) throw new ValidationError('phoneNumber', 'is required when method is "code"')
    const { link, clientToken } = await links.create(LOCAL_DEV_TENANT, {
      method,
      phoneNumber: phoneNumber ? normalizePhoneNumber(phoneNumber) : null,
      webhookUrl: null,
      redirectUrl,
      metadata: { source: 'demo' },
      ttlSeconds: DEFAULT_TTL_SECONDS,
    })
    c.header('Cache-Control', 'no-store')
    return c.json({ linkId: link.id, pageUrl: linkPageUrl(new URL(c.req.url).origin, link.id, clientToken) }, 201)
  })
  // The brand of the dev tenant, through the same validation as PUT /v1/branding.
  app.post('/demo/branding', async (c) => {
    const parsed = brandingBodySchema(true).safeParse(await c.req.json().catch(() => null))
    if (!parsed.success) return validationFailed(c, parsed.error, 'body')
    const { name = null, accentColor = null, logoUrl = null, supportUrl = null } = parsed.data
    return c.json(await branding.put(LOCAL_DEV_TENANT, { name, accentColor: accentColor?.toLowerCase() ?? null, logoUrl, supportUrl }))
  })
  // Where the demo's links return to: what your app would see.
  app.get('/demo/return', (c) => {
    c.header('Content-Security-Policy', DEMO_CSP)
    const q = c.req.query()
    return c.html(html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Back in your app</title><link rel="stylesheet" href="${ASSETS.demoStyle.path}"></head>
<body><header><h1>Back in your app</h1><p>The hosted page sent the person here with the outcome in the query.</p></header>
<div class="layout"><section class="panel"><table>${Object.entries(q).map(([k, v]) => html`<tr><th><code>${k}</code></th><td><code>${v}</code></td></tr>`)}</table><p><a href="/demo">Back to the demo</a></p></section></div></body></html>`)
  })
  app.post('/demo/links/:id/cancel', async (c) => {
    await links.cancel(LOCAL_DEV_TENANT, c.req.param('id'))
    return c.json({ ok: true })
  })
  // The simulated phone "scans" the QR on screen, or types the code: what a person would do.
  app.post('/demo/links/:id/simulate', async (c) => {
    if (!simulatorControlUrl) return errorResponse(c, 404, 'not_found', 'Start npm start with SIM_CONTROL_URL to use the simulator.')
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
