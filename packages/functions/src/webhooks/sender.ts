import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent'
import { Webhook } from 'standardwebhooks'
import type { AttemptResult, DeliverEvent, StoredEvent } from '@wa-link-broker/core/webhooks'
import { webhookBody } from './payload.ts'
import { outboundPolicy } from './policy.ts'

/** A receiver that has not answered within this long has failed the attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000
const USER_AGENT = 'wa-link-broker-webhooks/1'

export interface WebhookSenderOptions {
  local: boolean
  /** The secrets to sign with now: the tenant's current one, and those rotated away whose overlap is not over. */
  signingSecrets(tenantId: string): Promise<string[]>
  timeoutMs?: number
  now?: () => Date
}

export interface WebhookSender {
  deliver: DeliverEvent
  /** Closes idle keep-alive connections. */
  close(): void
}

/**
 * POSTs an event to its link's webhook URL, signed per Standard Webhooks (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature`: one `v1,<base64>` per live secret, space-separated).
 * Follows no redirect (a 3xx is a failed attempt). Reports what happened; never throws for the
 * receiver's faults, and never says more than a status or an error kind (no URL, no body).
 */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const policy = outboundPolicy(options.local)
  const agentOptions = { keepAlive: true, timeout: 15_000, ...policy.filter }
  const agents = { 'http:': new RequestFilteringHttpAgent(agentOptions), 'https:': new RequestFilteringHttpsAgent(agentOptions) }
  const timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS
  const now = options.now ?? (() => new Date())

  async function deliver(event: StoredEvent): Promise<AttemptResult> {
    let url: URL
    try {
      url = new URL(event.url)
    } catch {
      return { error: 'invalid_url' }
    }
    if (!policy.protocols.includes(url.protocol)) return { error: 'invalid_url' }
    const body = webhookBody(event)
    const timestamp = now()
    const signatures = (await options.signingSecrets(event.tenantId)).map((secret) => new Webhook(secret).sign(event.id, timestamp, body))
    return post(url, body, {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signatures.join(' '),
    }, agents[url.protocol as keyof typeof agents], timeoutMs)
  }

  return {
    deliver,
    close() {
      agents['http:'].destroy()
      agents['https:'].destroy()
    },
  }
}

function post(url: URL, body: string, headers: Record<string, string>, agent: Agent, timeoutMs: number): Promise<AttemptResult> {
  return new Promise((resolve) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal: AbortSignal.timeout(timeoutMs) }, (res: IncomingMessage) => {
      // The status is the answer; the body is read and dropped so the connection can be reused.
      res.on('error', () => undefined)
      res.resume()
      resolve({ httpStatus: res.statusCode ?? 0 })
    })
    req.on('error', (error: Error) => resolve({ error: classify(error) }))
    req.end(body)
  })
}

function classify(error: Error): Exclude<AttemptResult, { httpStatus: number }>['error'] {
  if (error.name === 'AbortError' || error.name === 'TimeoutError') return 'timeout'
  // request-filtering-agent refuses at DNS resolution (or on an IP literal) with this wording.
  if (/is not allowed/.test(error.message)) return 'address_refused'
  return 'network_error'
}
