import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent'
import { Webhook } from 'standardwebhooks'
import { DELIVERY_TIMEOUT_MS, type AttemptResult, type DeliverEvent, type StoredEvent } from '@wa-link-broker/core/webhooks'
import { webhookBody } from './payload.ts'
import { outboundPolicy } from './policy.ts'

const USER_AGENT = 'wa-link-broker-webhooks/1'

export interface WebhookSenderOptions {
  local: boolean
  /** The secrets to sign with now: the tenant's current one, and those rotated away whose overlap is not over. */
  signingSecrets(tenantId: string): Promise<string[]>
  /** The most one `deliver` takes, all of it (DELIVERY_TIMEOUT_MS unless given). */
  timeoutMs?: number
  now?: () => Date
}

export interface WebhookSender {
  deliver: DeliverEvent
  /** The bound on one `deliver`: the dispatcher's lease is kept long enough for it. */
  timeoutMs: number
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
    // One clock for the whole attempt: the secrets' lookup, DNS, connecting, sending the body and
    // the answer's headers. The dispatcher's lease counts on no attempt outlasting it.
    const signal = AbortSignal.timeout(timeoutMs)
    let url: URL
    try {
      url = new URL(event.url)
    } catch {
      return { error: 'invalid_url' }
    }
    if (!policy.protocols.includes(url.protocol)) return { error: 'invalid_url' }
    const body = webhookBody(event)
    const timestamp = now()
    const secrets = await beforeAbort(options.signingSecrets(event.tenantId), signal)
    if (!secrets) return { error: 'timeout' }
    const signatures = secrets.map((secret) => new Webhook(secret).sign(event.id, timestamp, body))
    return post(url, body, {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signatures.join(' '),
    }, agents[url.protocol as keyof typeof agents], signal)
  }

  return {
    deliver,
    timeoutMs,
    close() {
      agents['http:'].destroy()
      agents['https:'].destroy()
    },
  }
}

/** `work`'s value, or null once `signal` aborts first (the work itself goes on, unawaited). */
function beforeAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return Promise.resolve(null)
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(null)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** The request, aborted (DNS, connect, body, answer alike) when `signal` is; resolves at the answer's status. */
function post(url: URL, body: string, headers: Record<string, string>, agent: Agent, signal: AbortSignal): Promise<AttemptResult> {
  return new Promise((resolve) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal }, (res: IncomingMessage) => {
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
