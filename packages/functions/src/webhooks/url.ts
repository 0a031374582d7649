import { z } from '@hono/zod-openapi'
import { ValidationError } from '@wa-link-broker/core'
import { outboundPolicy } from './sender.ts'

/**
 * Whether a link may carry this webhook URL. In AWS: `https://` and a domain name (never an IP
 * literal or a local name; what the name resolves to is checked again at every delivery). On one
 * machine: `http://`, `localhost` and private addresses too.
 */
export function checkWebhookUrl(value: string, local: boolean): void {
  const url = new URL(value)
  if (!outboundPolicy(local).protocols.includes(url.protocol)) {
    throw new ValidationError('webhookUrl', local ? 'must be an http:// or https:// URL' : 'must be an https:// URL (http:// is allowed only when running locally)')
  }
  if (!local && !z.regexes.domain.test(url.hostname)) {
    throw new ValidationError('webhookUrl', 'must name a public domain (IP addresses and local names are allowed only when running locally)')
  }
}
