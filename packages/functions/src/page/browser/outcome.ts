import type { Link } from '@wa-link-broker/client'
import { isStoredWebUrl } from './stored-url.ts'

/** How long the page shows the outcome before it returns the person to the SaaS. */
export const RETURN_DELAY_MS = 2000

/** `linked`, or ended: nothing more will happen on this page by itself. */
export function isDone(link: Pick<Link, 'pollAfterMs'>): boolean {
  return link.pollAfterMs === null
}

/**
 * Where to send the person once the link is done: the link's own stored `redirectUrl` (never
 * anything from the page's address), with `link_id`, `status` and, for a failure, `error` set in its
 * own query. Null while the link is not done or has no redirectUrl. No token, ever.
 */
export function returnUrl(link: Pick<Link, 'id' | 'status' | 'error' | 'redirectUrl' | 'pollAfterMs'>): string | null {
  if (!link.redirectUrl || !isDone(link) || !isStoredWebUrl(link.redirectUrl)) return null
  const url = new URL(link.redirectUrl)
  url.searchParams.set('link_id', link.id)
  url.searchParams.set('status', link.status)
  if (link.error) url.searchParams.set('error', link.error.code)
  else url.searchParams.delete('error')
  return url.toString()
}

/**
 * Where the framed page posts its messages: the origin of the link's redirectUrl when it has one
 * (only that origin can read them); otherwise any parent (`*`). That is safe because a message holds
 * only the link id and its status (no token, no QR, no code), and a page that frames this one
 * already holds the token in the URL it framed, so it could read the same status from the API.
 */
export function messageTarget(link: Pick<Link, 'redirectUrl'>): string {
  return link.redirectUrl ? new URL(link.redirectUrl).origin : '*'
}
