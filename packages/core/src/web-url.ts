/** The longest URL a link or a brand keeps. */
export const MAX_URL_LENGTH = 2048

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * Why `value` would need the URL parser's forgiveness (it drops spaces and control characters), or
 * null: a URL the service keeps, whether a page's (below) or a webhook's, must not need it.
 */
export function unforgivenCharacters(value: string): string | null {
  return /[\s\x00-\x1f\x7f]/.test(value) ? 'must not contain spaces or control characters' : null
}

/**
 * Why `value` cannot be a URL the hosted page sends a person to or loads an image from (a link's
 * `redirectUrl`, a brand's `logoUrl` and `supportUrl`), or null when it can: an absolute `https:`
 * URL of at most 2,048 characters, without user-info (`https://user:pass@…`, a phishing staple).
 * `javascript:`, `data:` and relative URLs are refused like every other scheme. One machine
 * (`local`, AppDeps.local) may also use `http://localhost` and `http://127.0.0.1`.
 */
export function webUrlProblem(value: string, { local }: { local: boolean }): string | null {
  if (value.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`
  const unforgiven = unforgivenCharacters(value)
  if (unforgiven) return unforgiven
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be an absolute https:// URL'
  }
  const localHttp = local && url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname)
  if (url.protocol !== 'https:' && !localHttp) return local ? 'must be https:// (or http://localhost / http://127.0.0.1 when running locally)' : 'must be an https:// URL'
  if (url.username || url.password) return 'must not carry a user name or password'
  if (!url.hostname) return 'must name a host'
  return null
}
