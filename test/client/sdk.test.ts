import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LinkStore } from '@wa-link-broker/core/store'
import { ConflictError, NotFoundError, RateLimitedError, UnauthorizedError, ValidationError, WaLinkClient, type Link } from '@wa-link-broker/client'
import { startTestApi, type TestApi } from '../support/api.ts'

let api: TestApi
let key: string
let store: LinkStore
beforeAll(async () => {
  api = await startTestApi()
  key = await api.newTenantKey('acme')
  store = new LinkStore(api.doc, api.tableName)
})
afterAll(() => api.close())

/** A fetch that records what was sent and what came back. */
function recordingFetch() {
  const exchanges: { method: string; url: string; ifNoneMatch: string | null; status: number }[] = []
  const recorded: typeof fetch = async (input, init) => {
    const res = await fetch(input, init)
    exchanges.push({ method: init?.method ?? 'GET', url: String(input), ifNoneMatch: new Headers(init?.headers).get('if-none-match'), status: res.status })
    return res
  }
  return { fetch: recorded, exchanges }
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('the client against the real API', () => {
  it('watchLink with the client token sees every status in order, polls with If-None-Match, gets 304s, and ends at linked', async () => {
    const backend = new WaLinkClient({ baseUrl: api.url, apiKey: key })
    const { link, clientToken, pageUrl } = await backend.createLink({ metadata: { user: 7 } })
    expect(pageUrl).toBe(`${api.url}/link/${link.id}#token=${clientToken}`)
    const recorder = recordingFetch()
    const app = new WaLinkClient({ baseUrl: api.url, clientToken, fetch: recorder.fetch })

    // What a worker writes, one step each time the watcher has seen the last one and polled again unchanged.
    const steps: ((id: string) => Promise<unknown>)[] = [
      (id) => store.update(id, { from: ['pending'], to: 'starting' }),
      (id) => store.update(id, { from: ['starting'], to: 'awaiting_scan', patch: { qr: { value: 'qr-1', sequence: 1, expiresAt: new Date(Date.now() + 60_000).toISOString() } } }),
      (id) => store.update(id, { from: ['awaiting_scan'], patch: { qr: { value: 'qr-2', sequence: 2, expiresAt: new Date(Date.now() + 60_000).toISOString() } } }),
      (id) => store.update(id, { from: ['awaiting_scan'], to: 'pairing', patch: { qr: null } }),
      (id) => store.update(id, { from: ['pairing'], to: 'linked', patch: { account: { jid: '1:1@s.whatsapp.net', phoneNumber: '1', name: null, platform: 'android' } } }),
    ]
    const seen: Link[] = []
    const watching = (async () => {
      for await (const current of app.watchLink(link.id)) seen.push(current)
    })()
    for (const [i, step] of steps.entries()) {
      await waitUntil(() => seen.length === i + 1, `change ${i + 1}`)
      const polls = recorder.exchanges.length
      await waitUntil(() => recorder.exchanges.slice(polls).some((e) => e.status === 304), 'an unchanged poll')
      await step(link.id)
    }
    await watching
    expect(seen.map((l) => l.status)).toEqual(['pending', 'starting', 'awaiting_scan', 'awaiting_scan', 'pairing', 'linked'])
    expect(seen.map((l) => l.qr?.sequence ?? null)).toEqual([null, null, 1, 2, null, null])
    expect(seen.at(-1)).toMatchObject({ account: { platform: 'android' }, pollAfterMs: null, metadata: { user: 7 } })

    const polls = recorder.exchanges
    expect(polls.filter((e) => e.status === 304).length).toBeGreaterThanOrEqual(5)
    // Every poll after the first one carries the ETag of the last answer; each 304 answered such a poll.
    expect(polls[0].ifNoneMatch).toBeNull()
    for (const e of polls.slice(1)) expect(e.ifNoneMatch).toMatch(/^"[0-9a-f]+"$/)
    expect(polls.every((e) => e.status === 200 || e.status === 304)).toBe(true)
  }, 30_000)

  it('watchLink stops when its signal aborts, mid-wait, and sends nothing more', async () => {
    const backend = new WaLinkClient({ baseUrl: api.url, apiKey: key })
    const { link } = await backend.createLink()
    const recorder = recordingFetch()
    const client = new WaLinkClient({ baseUrl: api.url, apiKey: key, fetch: recorder.fetch })
    const controller = new AbortController()
    const seen: string[] = []
    const started = Date.now()
    setTimeout(() => controller.abort(), 1_200)
    for await (const current of client.watchLink(link.id, { signal: controller.signal })) seen.push(current.status)
    expect(Date.now() - started).toBeLessThan(1_600)
    expect(seen).toEqual(['pending'])
    const sent = recorder.exchanges.length
    expect(sent).toBeGreaterThanOrEqual(2)
    await new Promise((r) => setTimeout(r, 800))
    expect(recorder.exchanges.length).toBe(sent)
    await expect(client.waitForLink(link.id, { signal: AbortSignal.abort(new Error('gave up')) })).rejects.toThrow('gave up')
  })

  it('waitForLink calls back on each change and resolves with the outcome', async () => {
    const client = new WaLinkClient({ baseUrl: api.url, apiKey: key })
    const { link } = await client.createLink()
    const statuses: string[] = []
    const outcome = client.waitForLink(link.id, { onChange: (l) => statuses.push(l.status) })
    await waitUntil(() => statuses.length === 1, 'the first read')
    await client.cancelLink(link.id)
    expect(await outcome).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } })
    expect(statuses).toEqual(['pending', 'cancelled'])
  })

  it('listLinks walks every page, newest first', async () => {
    const tenantKey = await api.newTenantKey('lister')
    const recorder = recordingFetch()
    const client = new WaLinkClient({ baseUrl: api.url, apiKey: tenantKey, fetch: recorder.fetch })
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await client.createLink()).link.id)
    const listed: string[] = []
    for await (const link of client.listLinks({ limit: 2 })) listed.push(link.id)
    expect(listed).toEqual(ids.reverse())
    expect(recorder.exchanges.filter((e) => e.url.includes('/v1/links?'))).toHaveLength(3)
    const cancelled: string[] = []
    await client.cancelLink(ids[0])
    for await (const link of client.listLinks({ status: 'cancelled' })) cancelled.push(link.id)
    expect(cancelled).toEqual([ids[0]])
  })

  it('switches a QR link to a pairing code', async () => {
    const client = new WaLinkClient({ baseUrl: api.url, apiKey: key })
    const { link } = await client.createLink()
    expect(await client.requestPairingCode(link.id, '+1 (234) 567-8901')).toMatchObject({ method: 'code', phoneNumber: '12345678901' })
  })

  it('throws typed errors: 400 names the field, 401, 404, 409, and 429 with retryAfter', async () => {
    const client = new WaLinkClient({ baseUrl: api.url, apiKey: key })
    const bad = await client.createLink({ method: 'code', phoneNumber: 'call me' }).catch((e) => e)
    expect(bad).toBeInstanceOf(ValidationError)
    expect(bad).toMatchObject({ status: 400, code: 'invalid_input', field: 'phoneNumber' })

    const wrongKey = await new WaLinkClient({ baseUrl: api.url, apiKey: 'wlb_nope' }).getLink('lnk_x').catch((e) => e)
    expect(wrongKey).toBeInstanceOf(UnauthorizedError)
    expect(wrongKey).toMatchObject({ status: 401, code: 'unauthorized' })
    const { link, clientToken } = await client.createLink()
    const app = new WaLinkClient({ baseUrl: api.url, clientToken })
    await expect(app.cancelLink(link.id)).rejects.toBeInstanceOf(UnauthorizedError)

    const missing = await client.getLink('lnk_00000000000000000000000000').catch((e) => e)
    expect(missing).toBeInstanceOf(NotFoundError)
    expect(missing).toMatchObject({ status: 404, code: 'not_found' })

    const notLinked = await client.getCredentials(link.id).catch((e) => e)
    expect(notLinked).toBeInstanceOf(ConflictError)
    expect(notLinked).toMatchObject({ status: 409, code: 'not_linked' })

    const limited = await startTestApi({ limits: { createPerMinute: 1 } })
    try {
      const slow = new WaLinkClient({ baseUrl: limited.url, apiKey: await limited.newTenantKey('slow') })
      await slow.createLink()
      const error = await slow.createLink().catch((e) => e)
      expect(error).toBeInstanceOf(RateLimitedError)
      expect(error).toMatchObject({ status: 429, code: 'rate_limited' })
      expect(error.retryAfter).toBeGreaterThan(0)
      expect(error.retryAfter).toBeLessThanOrEqual(60)
    } finally {
      await limited.close()
    }
  })
})
