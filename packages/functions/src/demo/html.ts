import { html } from 'hono/html'
import { ASSETS } from '../page/assets.generated.ts'

/** Its own script and style, calls to its own origin, and frames of its own origin (the hosted page). */
export const DEMO_CSP = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-src 'self'", "img-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"].join('; ')

/** The demo: a SaaS page that asks its backend for a link and embeds the hosted page; `simulator` adds the simulated phone's button. */
export function demoHtml(simulator: boolean) {
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

/** Where the demo's links return to: what your app would see, the outcome in the query. */
export function returnHtml(q: Record<string, string>) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Back in your app</title><link rel="stylesheet" href="${ASSETS.demoStyle.path}"></head>
<body><header><h1>Back in your app</h1><p>The hosted page sent the person here with the outcome in the query.</p></header>
<div class="layout"><section class="panel"><table>${Object.entries(q).map(([k, v]) => html`<tr><th><code>${k}</code></th><td><code>${v}</code></td></tr>`)}</table><p><a href="/demo">Back to the demo</a></p></section></div></body></html>`
}
