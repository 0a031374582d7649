import type { Link, LinkErrorCode, LinkStatus } from './types.ts'

export const LINK_PAGE_MESSAGE_TYPE = 'wa-link-broker:link'

/**
 * What the hosted page posts to the window that frames it, on every status change: no token, no QR
 * value, no code; only what a redirect would say.
 */
export interface LinkPageMessage {
  type: typeof LINK_PAGE_MESSAGE_TYPE
  linkId: string
  status: LinkStatus
  /** `error.code` once the link failed (as in the redirect's `error=`), else null. */
  error: LinkErrorCode | null
}

export function linkPageMessage(link: Pick<Link, 'id' | 'status' | 'error'>): LinkPageMessage {
  return { type: LINK_PAGE_MESSAGE_TYPE, linkId: link.id, status: link.status, error: link.error?.code ?? null }
}

/**
 * For the page that embeds the hosted link page in an iframe: calls `handler` with each of its
 * messages. `origin` is the service's origin (where the page is served from, e.g.
 * `https://links.example.com`): messages from any other origin are ignored. Returns a function
 * that stops listening.
 */
export function onLinkPageMessage(
  handler: (message: LinkPageMessage) => void,
  options: { origin: string; target?: Pick<Window, 'addEventListener' | 'removeEventListener'> },
): () => void {
  const origin = new URL(options.origin).origin
  const target = options.target ?? window
  const listener = (event: MessageEvent) => {
    if (event.origin !== origin) return
    const data = event.data as Partial<LinkPageMessage> | null
    if (!data || typeof data !== 'object' || data.type !== LINK_PAGE_MESSAGE_TYPE || typeof data.linkId !== 'string' || typeof data.status !== 'string') return
    handler({ type: LINK_PAGE_MESSAGE_TYPE, linkId: data.linkId, status: data.status, error: data.error ?? null })
  }
  target.addEventListener('message', listener as EventListener)
  return () => target.removeEventListener('message', listener as EventListener)
}
