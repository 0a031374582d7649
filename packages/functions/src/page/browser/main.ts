import { LinkBrokerError, WaLinkClient, type Link } from '@wa-link-broker/client'
import { screenElement, tickCountdowns } from './render.ts'
import { NO_ACCESS, screenFor, type Screen } from './view.ts'

/**
 * The hosted link page: `/link/{id}#token=lct_…`. The token is read from the fragment, which no
 * browser sends to a server, and goes only into the Authorization header of same-origin API calls.
 */
const app = document.getElementById('app')!
const notice = document.getElementById('notice')!
const linkId = decodeURIComponent(location.pathname.split('/').pop() ?? '')
const token = new URLSearchParams(location.hash.slice(1)).get('token')

let shown = ''
function show(screen: Screen): void {
  // Redraw only when something visible changed: a new QR replaces the image, a tick does not.
  const key = JSON.stringify(screen)
  if (key === shown) return
  shown = key
  app.replaceChildren(screenElement(screen))
  document.body.dataset.state = screen.kind
}

async function run(): Promise<void> {
  if (!token) return show(NO_ACCESS)
  const client = new WaLinkClient({ baseUrl: location.origin, clientToken: token })
  let latest: Link | undefined
  // The QR's time runs out between polls too: re-derive the screen every second.
  setInterval(() => {
    if (latest) show(screenFor(latest))
    tickCountdowns(app)
  }, 1000)
  try {
    for await (const link of client.watchLink(linkId, {
      onRetry: () => (notice.textContent = 'Connection lost. Reconnecting…'),
    })) {
      notice.textContent = ''
      latest = link
      show(screenFor(link))
    }
  } catch (error) {
    if (error instanceof LinkBrokerError && (error.status === 404 || error.status === 401)) return show(NO_ACCESS)
    notice.textContent = 'Something went wrong. Reload the page to try again.'
    throw error
  }
}

void run()
