import { LinkBrokerError, linkPageMessage, WaLinkClient, type Link } from '@wa-link-broker/client'
import { applyBrand } from './brand.ts'
import { messageTarget, RETURN_DELAY_MS, returnUrl } from './outcome.ts'
import { screenElement, tickCountdowns } from './render.ts'
import { NO_ACCESS, screenFor, type Screen } from './view.ts'

/**
 * The hosted link page: `/link/{id}#token=lct_…`. The token is read from the fragment, which no
 * browser sends to a server, and goes only into the Authorization header of same-origin API calls.
 */
const app = document.getElementById('app')!
const notice = document.getElementById('notice')!
const linkId = decodeURIComponent(location.pathname.split('/').pop() ?? '')
const token = takeToken()
const framed = window.parent !== window
/** React Native's WebView hands the page a bridge to the app; other webviews are top-level pages. */
const nativeBridge = (window as { ReactNativeWebView?: { postMessage(data: string): void } }).ReactNativeWebView

/**
 * The token from the fragment, which then leaves the address bar (and the history, and a shared
 * screen): it is kept for this tab only, so a reload still works. Where the tab has no storage (a
 * sandboxed frame), the fragment stays, or a reload would lose access.
 */
function takeToken(): string | null {
  const key = `wa-link-broker:${location.pathname}`
  const fromUrl = new URLSearchParams(location.hash.slice(1)).get('token')
  try {
    if (!fromUrl) return sessionStorage.getItem(key)
    sessionStorage.setItem(key, fromUrl)
    history.replaceState(history.state, '', location.pathname + location.search)
  } catch {
    // No storage here: keep the token where it is.
  }
  return fromUrl
}

let shown = ''
/** Now on the API's clock: a phone's own can be minutes off, and would hide a QR that is still good. */
let now = () => Date.now()
function show(screen: Screen): void {
  // Redraw only when something visible changed: a new QR replaces the image, a tick does not.
  const key = JSON.stringify(screen)
  if (key === shown) return
  shown = key
  app.replaceChildren(screenElement(screen, now()))
  document.body.dataset.state = screen.kind
}

let lastStatus: string | undefined
let returning = false
/** Tells the framing app of each status change; sends a top-level page back to the SaaS when done. */
function report(link: Link): void {
  if (link.status !== lastStatus) {
    lastStatus = link.status
    if (framed) window.parent.postMessage(linkPageMessage(link), messageTarget(link))
    nativeBridge?.postMessage(JSON.stringify(linkPageMessage(link)))
  }
  // In a frame the embedding app decides what comes next (it has the message); the page stays.
  const target = framed ? null : returnUrl(link)
  if (target && !returning) {
    returning = true
    notice.textContent = 'Taking you back…'
    setTimeout(() => location.replace(target), RETURN_DELAY_MS)
  }
}

async function run(): Promise<void> {
  if (!token) return show(NO_ACCESS)
  const client = new WaLinkClient({ baseUrl: location.origin, clientToken: token })
  now = () => client.now()
  client.getLinkBranding(linkId).then((branding) => applyBrand(branding), () => undefined)
  let latest: Link | undefined
  // The QR's time runs out between polls too: re-derive the screen every second.
  setInterval(() => {
    if (latest) show(screenFor(latest, now()))
    tickCountdowns(app, now())
  }, 1000)
  try {
    for await (const link of client.watchLink(linkId, {
      onRetry: () => (notice.textContent = 'Connection lost. Reconnecting…'),
    })) {
      if (!returning) notice.textContent = ''
      latest = link
      show(screenFor(link, now()))
      report(link)
    }
  } catch (error) {
    if (error instanceof LinkBrokerError && (error.status === 404 || error.status === 401)) return show(NO_ACCESS)
    notice.textContent = 'Something went wrong. Reload the page to try again.'
    throw error
  }
}

void run()
