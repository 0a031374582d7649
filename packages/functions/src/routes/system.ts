import { OpenAPIHono } from '@hono/zod-openapi'
import { html, raw } from 'hono/html'
import type { AppEnv } from '../deps.ts'

interface OpenApiOperation {
  summary?: string
  description?: string
  security?: unknown[]
  responses?: Record<string, { description?: string }>
}

/**
 * A docs page rendered on the server from the generated OpenAPI document: self-contained, so it
 * works offline and needs no third-party script.
 */
function docsPage(document: { info: { title: string; version: string }; paths: Record<string, Record<string, OpenApiOperation>> }) {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  )
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${document.info.title} — API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
code,.path{font-family:ui-monospace,monospace}.op{border:1px solid #d0d7de;border-radius:6px;margin:1rem 0;padding:.75rem 1rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700}.r{color:#57606a;font-size:.9em}</style></head>
<body><h1>${document.info.title} <small>${document.info.version}</small></h1>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authenticate with <code>Authorization: Bearer &lt;API key&gt;</code>; a link's client token can read that link and its QR image.</p>
${raw(operations.map(({ path, method, op }) => html`<div class="op"><div><span class="m">${method}</span><span class="path">${path}</span></div>
<div>${op.summary ?? ''}</div>${op.description ? html`<div class="r">${op.description}</div>` : ''}
<div class="r">${Object.entries(op.responses ?? {}).map(([status, r]) => `${status} ${r.description ?? ''}`).join(' · ')}</div></div>`).join(''))}
</body></html>`
}

export function systemRoutes(openApiDocument: () => Parameters<typeof docsPage>[0]) {
  const app = new OpenAPIHono<AppEnv>()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/docs', (c) => c.html(docsPage(openApiDocument())))
  return app
}
