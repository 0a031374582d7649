import { webUrlProblem } from '@wa-link-broker/core/web-url'

/**
 * Whether a URL the API handed the page (a brand's logo or support link, a link's redirectUrl) is
 * one the API could have stored: core's rule (web-url.ts), which the API applied when the URL was
 * set. The page cannot tell whether that API ran on one machine, so it allows what one machine
 * allows (http://localhost too); anything else, a `javascript:` URL say, is never used.
 */
export function isStoredWebUrl(url: string): boolean {
  return webUrlProblem(url, { local: true }) === null
}
