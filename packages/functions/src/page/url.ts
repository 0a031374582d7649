/** Where the hosted link page of a link lives: one home for its path and how the token travels. */
export const LINK_PAGE_PATH = '/link/:id'

/**
 * The page's absolute URL, with the client token in the fragment: a browser never sends a fragment
 * to any server (nor in a Referer), so the token stays out of every request line and every log.
 * `origin` is the origin that answered the request: the page is served by the same app, so wherever
 * the API answered, the page answers too (locally, on Lambda's function URL, behind a CDN).
 */
export function linkPageUrl(origin: string, linkId: string, clientToken: string): string {
  return `${origin}${LINK_PAGE_PATH.replace(':id', encodeURIComponent(linkId))}#token=${encodeURIComponent(clientToken)}`
}
