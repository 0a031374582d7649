import { errorFromResponse, LinkBrokerError, RateLimitedError } from './errors.ts'
import type { Branding, BrandingInput, CreatedLink, CreateLinkInput, Credentials, Link, LinkStatus } from './types.ts'

export type ClientOptions = {
  /** Where the API answers, e.g. `https://links.example.com` or `http://localhost:3000`. */
  baseUrl: string
  /** Another fetch (a test's recorder, a polyfill); the global one by default. */
  fetch?: typeof fetch
} & (
  | { /** A tenant API key (`wlb_…`): your backend only, never in an app. */ apiKey: string; clientToken?: never }
  | { /** A link's client token (`lct_…`): reads that one link; safe to give an app or a page. */ clientToken: string; apiKey?: never }
)

export interface CallOptions {
  signal?: AbortSignal
}

export interface WatchOptions extends CallOptions {
  /** Called before each retry after a network error, a 5xx or a 429. */
  onRetry?: (error: unknown, attempt: number) => void
}

/** How many links' ETags a client remembers for `If-None-Match`. */
const ETAG_CACHE_SIZE = 256
const MAX_RETRY_DELAY_MS = 10_000
/**
 * A `Date` header has whole seconds and arrives after some latency: a difference smaller than this
 * is that, not a wrong clock, and the device's own clock is kept.
 */
const CLOCK_SKEW_TOLERANCE_MS = 2_000

/**
 * The wa-link-broker API over `fetch`: no Node-only dependency, so the same code runs in a backend,
 * a browser (the hosted link page is built on it) and React Native.
 */
export class WaLinkClient {
  private readonly baseUrl: string
  private readonly authorization: string
  private readonly fetch: typeof fetch
  /** The last body and ETag of each link read, so a poll that finds nothing new costs a 304. */
  private readonly seen = new Map<string, { etag: string; link: Link }>()
  /** How far the API's clock is ahead of this device's (negative: behind), from its last `Date` header. */
  private clockOffsetMs = 0

  constructor(options: ClientOptions) {
    const credential = options.apiKey ?? options.clientToken
    if (!credential) throw new TypeError('WaLinkClient needs an apiKey or a clientToken.')
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.authorization = `Bearer ${credential}`
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  }

  /** Starts a link (tenant key). `idempotencyKey`: a retry with the same key and body returns the same link. */
  async createLink(input: CreateLinkInput = {}, options: CallOptions & { idempotencyKey?: string } = {}): Promise<CreatedLink> {
    const headers = options.idempotencyKey ? { 'Idempotency-Key': options.idempotencyKey } : undefined
    return (await this.call('POST', '/v1/links', { ...options, body: input, headers })).json()
  }

  /**
   * Reads a link (tenant key or its client token). ETag-aware: it sends `If-None-Match` with the
   * ETag it last saw for this link and, on `304 Not Modified`, returns that same object again.
   */
  async getLink(id: string, options: CallOptions = {}): Promise<Link> {
    const known = this.seen.get(id)
    const res = await this.call('GET', `/v1/links/${encodeURIComponent(id)}`, { ...options, headers: known && { 'If-None-Match': known.etag } })
    if (res.status === 304 && known) return known.link
    const link = (await res.json()) as Link
    const etag = res.headers.get('etag')
    this.seen.delete(id)
    if (etag) {
      this.seen.set(id, { etag, link })
      if (this.seen.size > ETAG_CACHE_SIZE) this.seen.delete(this.seen.keys().next().value!)
    }
    return link
  }

  /**
   * Every change of a link, as it happens: yields the link now, then each time it changes, polling
   * as often as the API says (`pollAfterMs`) with `If-None-Match`. Ends after a status that will not
   * change by itself (`linked` or a final one), or quietly when `signal` aborts. Network errors,
   * 5xx and 429 (after `Retry-After`) are retried; any other error is thrown.
   */
  async *watchLink(id: string, options: WatchOptions = {}): AsyncGenerator<Link, void, undefined> {
    const { signal } = options
    let last: string | undefined
    let attempt = 0
    while (!signal?.aborted) {
      let link: Link
      try {
        link = await this.getLink(id, { signal })
        attempt = 0
      } catch (error) {
        if (signal?.aborted) return
        if (!isRetriable(error)) throw error
        attempt += 1
        options.onRetry?.(error, attempt)
        await sleep(retryDelayMs(error, attempt), signal)
        continue
      }
      const json = JSON.stringify(link)
      if (json !== last) {
        last = json
        yield link
      }
      if (link.pollAfterMs === null) return
      await sleep(link.pollAfterMs, signal)
    }
  }

  /**
   * Waits until the link is `linked` or has ended, and returns it then. `onChange` sees every change
   * on the way (statuses, each new QR or code). Rejects with `signal`'s reason when it aborts.
   */
  async waitForLink(id: string, options: WatchOptions & { onChange?: (link: Link) => void } = {}): Promise<Link> {
    let last: Link | undefined
    for await (const link of this.watchLink(id, options)) {
      options.onChange?.(link)
      last = link
    }
    if (options.signal?.aborted || !last) throw options.signal?.reason ?? new Error('aborted')
    return last
  }

  /** Switches a running QR link to an 8-character pairing code for `phoneNumber` (tenant key). */
  async requestPairingCode(id: string, phoneNumber: string, options: CallOptions = {}): Promise<Link> {
    return (await this.call('POST', `/v1/links/${encodeURIComponent(id)}/pairing-code`, { ...options, body: { phoneNumber } })).json()
  }

  /** Cancels a link in progress; on a linked one, logs the device out and erases its credentials (tenant key). */
  async cancelLink(id: string, options: CallOptions = {}): Promise<Link> {
    return (await this.call('DELETE', `/v1/links/${encodeURIComponent(id)}`, options)).json()
  }

  /** The tenant's links, newest first, fetched a page (`limit`) at a time as you iterate. */
  async *listLinks(options: CallOptions & { status?: LinkStatus; limit?: number } = {}): AsyncGenerator<Link, void, undefined> {
    let cursor: string | null = null
    do {
      const query = new URLSearchParams()
      if (options.status) query.set('status', options.status)
      if (options.limit) query.set('limit', String(options.limit))
      if (cursor) query.set('cursor', cursor)
      const page: { links: Link[]; nextCursor: string | null } = await (await this.call('GET', `/v1/links?${query}`, options)).json()
      yield* page.links
      cursor = page.nextCursor
    } while (cursor)
  }

  /** The linked session's auth state in Baileys' `BufferJSON` form (tenant key; a secret). */
  async getCredentials(id: string, options: CallOptions = {}): Promise<Credentials> {
    return (await this.call('GET', `/v1/links/${encodeURIComponent(id)}/credentials`, options)).json()
  }

  /** The tenant's brand on the hosted page (tenant key). */
  async getBranding(options: CallOptions = {}): Promise<Branding> {
    return (await this.call('GET', '/v1/branding', options)).json()
  }

  /** Replaces the tenant's brand; fields left out are cleared (tenant key). */
  async setBranding(branding: BrandingInput, options: CallOptions = {}): Promise<Branding> {
    return (await this.call('PUT', '/v1/branding', { ...options, body: branding })).json()
  }

  /** The brand of the tenant that owns a link: what its hosted page shows (tenant key or its client token). */
  async getLinkBranding(id: string, options: CallOptions = {}): Promise<Branding> {
    return (await this.call('GET', `/v1/links/${encodeURIComponent(id)}/branding`, options)).json()
  }

  /**
   * Now, on the API's clock: expiry times (`qr.expiresAt`, `pairingCode.expiresAt`, `expiresAt`) are
   * the API's, and a phone's clock can be minutes off. This is the device's clock, corrected by the
   * `Date` header of the last answer when the two disagree by more than 2 s. Count down with it.
   */
  now(): number {
    return Date.now() + this.clockOffsetMs
  }

  private async call(method: string, path: string, options: CallOptions & { body?: unknown; headers?: Record<string, string> }): Promise<Response> {
    const headers: Record<string, string> = { Authorization: this.authorization, Accept: 'application/json', ...options.headers }
    if (options.body !== undefined) headers['Content-Type'] = 'application/json'
    const res = await this.fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      // Polls are answered `no-store` anyway; the ETag round trip is this client's own.
      cache: 'no-store',
    })
    this.noteServerClock(res.headers.get('date'))
    if (res.ok || res.status === 304) return res
    throw await errorFromResponse(res)
  }

  private noteServerClock(date: string | null): void {
    const server = date ? Date.parse(date) : NaN
    if (Number.isNaN(server)) return
    // The header's time is truncated to the second: its middle is the best guess.
    const offset = server + 500 - Date.now()
    this.clockOffsetMs = Math.abs(offset) > CLOCK_SKEW_TOLERANCE_MS ? offset : 0
  }
}

function isRetriable(error: unknown): boolean {
  if (error instanceof LinkBrokerError) return error.status === 429 || error.status >= 500
  return error instanceof TypeError // fetch's network failure
}

function retryDelayMs(error: unknown, attempt: number): number {
  if (error instanceof RateLimitedError) return error.retryAfter * 1000
  return Math.min(MAX_RETRY_DELAY_MS, 250 * 2 ** attempt) * (0.5 + Math.random() / 2)
}

/** Resolves after `ms`, or at once when `signal` aborts (the caller checks `signal.aborted`). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
