import { html } from 'hono/html'
import { ASSETS } from './assets.generated.ts'

/** The hosted page's shell: the script draws everything else, from the API, with the token. */
export function linkPageHtml() {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>Link WhatsApp</title>
<link rel="stylesheet" href="${ASSETS.pageStyle.path}">
<script src="${ASSETS.pageScript.path}" defer></script>
</head>
<body data-state="loading">
<header class="bar"><img class="logo" id="logo" alt="" hidden referrerpolicy="no-referrer"><h1 id="title">Link WhatsApp</h1></header>
<main>
<div id="app" aria-live="polite"><section class="screen"><p class="muted">Loading…</p><noscript><p>This page needs JavaScript to show your code.</p></noscript></section></div>
<p id="notice" role="status"></p>
<p class="support" id="support" hidden><a id="support-link" rel="noopener noreferrer" target="_blank">Need help?</a></p>
</main>
</body>
</html>`
}
