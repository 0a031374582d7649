import { z } from '@hono/zod-openapi'
import { unforgivenCharacters } from '@wa-link-broker/core/web-url'
import { outboundPolicy } from './policy.ts'

/**
 * Why a link cannot carry this webhook URL, or null when it can. In AWS: `https://` and a domain
 * name (never an IP literal or a local name; what the name resolves to is checked again at every
 * delivery). On one machine (`local`, AppDeps.local): `http://`, `localhost` and IP addresses too.
 */
export function webhookUrlProblem(value: string, { local }: { local: boolean }): string | null {
  const unforgiven = unforgivenCharacters(value)
  if (unforgiven) return unforgiven
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be an absolute URL'
  }
  if (!outboundPolicy(local).protocols.includes(url.protocol)) {
    return local ? 'must be an http:// or https:// URL' : 'must be an https:// URL (http:// is allowed only when running locally)'
  }
  if (!local && !z.regexes.domain.test(url.hostname)) return 'must name a public domain (IP addresses and local names are allowed only when running locally)'
  return null
}
