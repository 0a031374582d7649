import { ScanCommand } from '@aws-sdk/lib-dynamodb'
import { Agent, request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import jsQRModule from 'jsqr'
import { PNG } from 'pngjs'
import { LinkStore, MAX_CLIENT_TOKENS_PER_LINK } from '@wa-link-broker/core'
import { startTestApi, type TestApi } from '../support/api.ts'

// jsqr is CommonJS with `export default` typings: the default import is the function at run time.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default

let api: TestApi
let key: string
let otherKey: string
let store: LinkStore

beforeAll(async () => {
  api = await startTestApi()
  key = await api.newTenantKey('acme')
  otherKey = await api.newTenantKey('globex')
  store = new LinkStore(api.doc, api.tableName)
})
afterAll(() => api.close())

async function createLink(json: unknown = { method: 'qr' }, k = key, headers: Record<string, string> = {}) {
  const res = await api.request('/v1/links', { method: 'POST', key: k, json, headers })
  expect(res.status).toBe(201)
  return (await res.json()) as { link: { id: string; status: string; [k: string]: unknown }; clientToken: string }
}

async function expectError(res: Response, status: number, code: string, field?: string) {
  expect(res.status).toBe(status)
  const body = await res.json()
  expect(body.error.code).toBe(code)
  expect(typeof body.error.message).toBe('string')
  if (field) expect(body.error.field).toBe(field)
  return body
}

/** What a worker would write: a current QR on the link. */
async function giveQr(id: string, value = 'https://wa.me/settings/linked_devices#ref123,noise,ident,adv,1', sequence = 1) {
  await store.update(id, { from: ['pending', 'starting', 'awaiting_scan'], patch: { qr: { value, sequence, expiresAt: new Date(Date.now() + 60_000).toISOString() } } })
}

describe('POST /v1/links', () => {
  it('starts a QR link and returns it with a client token', async () => {
    const res = await api.request('/v1/links', { method: 'POST', key, json: { metadata: { userId: 42 } } })
    expect(res.status).toBe(201)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const { link, clientToken } = await res.json()
    expect(link).toMatchObject({ status: 'pending', method: 'qr', phoneNumber: null, qr: null, metadata: { userId: 42 }, pollAfterMs: 250 })
    expect(link.id).toMatch(/^lnk_[0-9a-z]{26}$/)
    expect(clientToken).toMatch(/^lct_/)
    expect(res.headers.get('location')).toBe(`/v1/links/${link.id}`)
    expect(Date.parse(link.expiresAt) - Date.parse(link.createdAt)).toBe(300_000)
    expect(api.launcher).toMatchObject({ launched: expect.arrayContaining([{ linkId: link.id, mode: 'link' }]) })
  })

  it('keeps any JSON object as metadata, even what a DynamoDB map would refuse', async () => {
    const metadata = { '': { '': 1 }, big: 1e200, tiny: -1e-200, list: [null, true, 'x', { k: [] }] }
    const { link } = await createLink({ metadata })
    expect(link.metadata).toEqual(metadata)
    expect((await (await api.request(`/v1/links/${link.id}`, { key })).json()).metadata).toEqual(metadata)
  })

  it('accepts an empty body as a default QR link', async () => {
    const res = await api.request('/v1/links', { method: 'POST', key })
    expect(res.status).toBe(201)
    expect((await res.json()).link.method).toBe('qr')
  })

  it('normalises a human-format phone number for a code link', async () => {
    const { link } = await createLink({ method: 'code', phoneNumber: '+1 (234) 567-8901', ttlSeconds: 120 })
    expect(link).toMatchObject({ method: 'code', phoneNumber: '12345678901' })
    expect(Date.parse(link.expiresAt as string) - Date.parse(link.createdAt as string)).toBe(120_000)
  })

  it.each([
    [{ method: 'sms' }, 'method'],
    [{ method: 'code' }, 'phoneNumber'],
    [{ method: 'code', phoneNumber: '12' }, 'phoneNumber'],
    [{ method: 'code', phoneNumber: 'call me' }, 'phoneNumber'],
    [{ phoneNumber: 12345678901 }, 'phoneNumber'],
    [{ webhookUrl: 'ftp://example.com/hook' }, 'webhookUrl'],
    [{ webhookUrl: 'not a url' }, 'webhookUrl'],
    [{ metadata: 'x' }, 'metadata'],
    [{ metadata: { blob: 'x'.repeat(3000) } }, 'metadata'],
    [{ ttlSeconds: 5 }, 'ttlSeconds'],
    [{ ttlSeconds: 1.5 }, 'ttlSeconds'],
    [{ ttlSeconds: 99999 }, 'ttlSeconds'],
    [{ colour: 'blue' }, 'colour'],
    [[1, 2], 'body'],
    [null, 'body'],
  ])('rejects %j with 400 naming %s', async (json, field) => {
    await expectError(await api.request('/v1/links', { method: 'POST', key, json }), 400, 'invalid_input', field)
  })

  it('rejects deeply nested metadata with 400 naming metadata (5,000 levels in 10 KB)', async () => {
    const body = `{"metadata":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`
    const res = await api.request('/v1/links', { method: 'POST', key, body, headers: { 'content-type': 'application/json' } })
    const error = await expectError(res, 400, 'invalid_input', 'metadata')
    expect(error.error.message).toMatch(/levels deep/)
    // 32 levels, the documented bound, is still accepted.
    const ok = `{"metadata":{"a":${'['.repeat(31)}${']'.repeat(31)}}}`
    expect((await api.request('/v1/links', { method: 'POST', key, body: ok, headers: { 'content-type': 'application/json' } })).status).toBe(201)
  })

  it('rejects malformed JSON with 400', async () => {
    const res = await api.request('/v1/links', { method: 'POST', key, body: '{"method":', headers: { 'content-type': 'application/json' } })
    await expectError(res, 400, 'invalid_input')
  })

  it('rejects a non-JSON body with 415', async () => {
    const res = await api.request('/v1/links', { method: 'POST', key, body: 'method=qr', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    await expectError(res, 415, 'unsupported_media_type')
  })

  it('rejects a body over 64 KB with 413', async () => {
    const res = await api.request('/v1/links', { method: 'POST', key, json: { metadata: { blob: 'x'.repeat(70 * 1024) } } })
    await expectError(res, 413, 'payload_too_large')
  })

  it('closes the connection after a 413, so a keep-alive client can send its next request', async () => {
    // One socket, reused while the server allows it: what a browser or an SDK's pool does.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const send = (method: string, path: string, headers: Record<string, string>, chunks: Buffer[] = []) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = httpRequest(`${api.url}${path}`, { method, agent, headers }, (res) => {
          res.resume()
          res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }))
        })
        req.on('error', reject)
        for (const chunk of chunks) req.write(chunk)
        req.end()
      })
    try {
      for (let round = 0; round < 3; round++) {
        const chunks = Array.from({ length: 16 }, () => Buffer.alloc(64 * 1024, 0x20)) // 1 MB of JSON whitespace
        const tooLarge = await send('POST', '/v1/links', { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': String(16 * 64 * 1024) }, chunks)
        const next = await send('GET', '/healthz', {}).catch((error: NodeJS.ErrnoException) => ({ status: error.code }))
        expect(next.status).toBe(200)
        expect(tooLarge).toEqual({ status: 413, connection: 'close' })
      }
    } finally {
      agent.destroy()
    }
  })

  it('replays an Idempotency-Key to the same link, and refuses it with another body', async () => {
    const headers = { 'idempotency-key': `order-${Math.random()}` }
    const first = await createLink({ method: 'qr', metadata: { a: 1 } }, key, headers)
    const res = await api.request('/v1/links', { method: 'POST', key, json: { metadata: { a: 1 }, method: 'qr' }, headers })
    expect(res.status).toBe(201)
    expect(res.headers.get('idempotent-replayed')).toBe('true')
    const second = await res.json()
    expect(second.link.id).toBe(first.link.id)
    // Both tokens handed out for the link read it.
    for (const token of [first.clientToken, second.clientToken]) {
      expect((await api.request(`/v1/links/${first.link.id}`, { key: token })).status).toBe(200)
    }
    await expectError(await api.request('/v1/links', { method: 'POST', key, json: { metadata: { a: 2 } }, headers }), 422, 'idempotency_mismatch')
    // The same key belongs to each tenant separately.
    const other = await api.request('/v1/links', { method: 'POST', key: otherKey, json: { metadata: { a: 1 }, method: 'qr' }, headers })
    expect((await other.json()).link.id).not.toBe(first.link.id)
  })

  it('keeps a link small however often its Idempotency-Key is replayed: the first token and the 9 latest work', async () => {
    const headers = { 'idempotency-key': `retry-storm-${Math.random()}` }
    const first = await createLink({ method: 'qr' }, key, headers)
    const replayTokens: string[] = []
    for (let i = 0; i < 25; i++) replayTokens.push((await createLink({ method: 'qr' }, key, headers)).clientToken)
    const stored = await store.get(first.link.id)
    expect(stored!.clientTokenHashes).toHaveLength(MAX_CLIENT_TOKENS_PER_LINK)
    const opens = async (token: string) => (await api.request(`/v1/links/${first.link.id}`, { key: token })).status
    expect(await opens(first.clientToken)).toBe(200)
    for (const token of replayTokens.slice(-(MAX_CLIENT_TOKENS_PER_LINK - 1))) expect(await opens(token)).toBe(200)
    for (const token of replayTokens.slice(0, -(MAX_CLIENT_TOKENS_PER_LINK - 1))) expect(await opens(token)).toBe(404)

    // Concurrent replays each get a working token and none is lost.
    const concurrent = await Promise.all(Array.from({ length: 6 }, () => createLink({ method: 'qr' }, key, headers)))
    for (const { clientToken } of concurrent) expect(await opens(clientToken)).toBe(200)
    expect((await store.get(first.link.id))!.clientTokenHashes).toHaveLength(MAX_CLIENT_TOKENS_PER_LINK)
  })

  it('concurrent requests with one Idempotency-Key create one link', async () => {
    const headers = { 'idempotency-key': `race-${Math.random()}` }
    const results = await Promise.all(Array.from({ length: 5 }, () => api.request('/v1/links', { method: 'POST', key, json: { method: 'qr' }, headers })))
    const ids = new Set<string>()
    for (const res of results) {
      expect(res.status).toBe(201)
      ids.add((await res.json()).link.id)
    }
    expect(ids.size).toBe(1)
  })

  it('rejects a bad Idempotency-Key with 400', async () => {
    const res = await api.request('/v1/links', { method: 'POST', key, json: {}, headers: { 'idempotency-key': 'x'.repeat(300) } })
    await expectError(res, 400, 'invalid_input', 'idempotency-key')
  })
})

describe('relink (POST /v1/links {relinkOf})', () => {
  /** Walks a stored link to `linked` (what its worker would write), then optionally to `unlinked`. */
  async function linkIt(id: string, unlink: boolean) {
    await store.update(id, { from: ['pending'], to: 'starting' })
    await store.update(id, { from: ['starting'], to: 'awaiting_scan' })
    await store.update(id, { from: ['awaiting_scan'], to: 'pairing' })
    await store.update(id, { from: ['pairing'], to: 'linked' })
    if (unlink) await store.update(id, { from: ['linked'], to: 'unlinked' })
  }

  it("starts over for an unlinked link with its method, phone number and metadata; the old one points to the new", async () => {
    const old = await createLink({ method: 'code', phoneNumber: '+1 415 555 0199', metadata: { user: 'u7', plan: 'pro' } })
    await linkIt(old.link.id, true)
    const res = await api.request('/v1/links', { method: 'POST', key, json: { relinkOf: old.link.id } })
    expect(res.status).toBe(201)
    const { link } = await res.json()
    expect(link).toMatchObject({ status: 'pending', method: 'code', phoneNumber: '14155550199', metadata: { user: 'u7', plan: 'pro' }, relinkOf: old.link.id, relinkedTo: null })
    expect(await (await api.request(`/v1/links/${old.link.id}`, { key })).json()).toMatchObject({ status: 'unlinked', relinkedTo: link.id, relinkOf: null })
    // Once only: a second relink of the same link is refused.
    await expectError(await api.request('/v1/links', { method: 'POST', key, json: { relinkOf: old.link.id } }), 409, 'not_relinkable')
  })

  it('what the request gives wins over the old link', async () => {
    const old = await createLink({ method: 'code', phoneNumber: '+1 415 555 0198', metadata: { user: 'u8' } })
    await linkIt(old.link.id, true)
    const { link } = await createLink({ relinkOf: old.link.id, method: 'qr', metadata: { user: 'u8', attempt: 2 } })
    expect(link).toMatchObject({ method: 'qr', phoneNumber: '14155550198', metadata: { user: 'u8', attempt: 2 }, relinkOf: old.link.id })
  })

  it('a linked link (its device was logged out) is logged out first, as DELETE does', async () => {
    const old = await createLink({ metadata: { user: 'u9' } })
    await linkIt(old.link.id, false)
    const { link } = await createLink({ relinkOf: old.link.id })
    expect(link).toMatchObject({ metadata: { user: 'u9' }, relinkOf: old.link.id })
    expect(api.launcher).toMatchObject({ launched: expect.arrayContaining([{ linkId: old.link.id, mode: 'logout' }, { linkId: link.id, mode: 'link' }]) })
  })

  it('concurrent relinks of one link start exactly one new link', async () => {
    const old = await createLink()
    await linkIt(old.link.id, true)
    const results = await Promise.all(Array.from({ length: 4 }, () => api.request('/v1/links', { method: 'POST', key, json: { relinkOf: old.link.id } })))
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409])
  })

  it('refuses a link in progress (409), a foreign or unknown one (404), and a malformed id (400)', async () => {
    const running = await createLink()
    await expectError(await api.request('/v1/links', { method: 'POST', key, json: { relinkOf: running.link.id } }), 409, 'not_relinkable')
    const foreign = await createLink({}, otherKey)
    await linkIt(foreign.link.id, true)
    await expectError(await api.request('/v1/links', { method: 'POST', key, json: { relinkOf: foreign.link.id } }), 404, 'not_found')
    await expectError(await api.request('/v1/links', { method: 'POST', key, json: { relinkOf: 'lnk_00000000000000000000000000' } }), 404, 'not_found')
    await expectError(await api.request('/v1/links', { method: 'POST', key, json: { relinkOf: 'nope' } }), 400, 'invalid_input', 'relinkOf')
  })
})

describe('auth', () => {
  it.each([
    ['no header', undefined],
    ['an unknown key', 'wlb_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['garbage', 'hello'],
  ])('401 for %s', async (_, k) => {
    await expectError(await api.request('/v1/links', { key: k }), 401, 'unauthorized')
  })

  it('401 for a revoked key', async () => {
    const { ApiKeyStore, ApiKeyVerifier, parseKeyId } = await import('@wa-link-broker/core')
    const keys = new ApiKeyStore(api.doc, api.tableName)
    const revokedKey = await api.newTenantKey('leaver')
    await keys.revoke(parseKeyId(revokedKey)!)
    expect(await new ApiKeyVerifier(keys).verify(revokedKey)).toBeNull()
    // A key whose hash does not match (same id, other secret) fails too.
    expect(await new ApiKeyVerifier(keys).verify(key.slice(0, -2) + 'AA')).toBeNull()
  })

  it("gives 404, not 403, for another tenant's link, on read and on delete; its list is empty", async () => {
    const { link } = await createLink({}, otherKey)
    await expectError(await api.request(`/v1/links/${link.id}`, { key }), 404, 'not_found')
    await expectError(await api.request(`/v1/links/${link.id}`, { method: 'DELETE', key }), 404, 'not_found')
    await expectError(await api.request(`/v1/links/${link.id}/qr.svg`, { key }), 404, 'not_found')
    const thirdKey = await api.newTenantKey('initech')
    const list = await (await api.request('/v1/links', { key: thirdKey })).json()
    expect(list).toEqual({ links: [], nextCursor: null })
    expect((await api.request(`/v1/links/${link.id}`, { key: otherKey })).status).toBe(200)
  })

  it('lets a client token read its own link and QR, and nothing else', async () => {
    const mine = await createLink()
    const other = await createLink()
    await giveQr(mine.link.id)
    const token = mine.clientToken
    expect((await api.request(`/v1/links/${mine.link.id}`, { key: token })).status).toBe(200)
    expect((await api.request(`/v1/links/${mine.link.id}/qr.svg`, { key: token })).status).toBe(200)
    await expectError(await api.request(`/v1/links/${other.link.id}`, { key: token }), 404, 'not_found')
    await expectError(await api.request('/v1/links', { key: token }), 401, 'unauthorized')
    await expectError(await api.request(`/v1/links/${mine.link.id}`, { method: 'DELETE', key: token }), 401, 'unauthorized')
    await expectError(await api.request('/v1/links', { method: 'POST', key: token, json: {} }), 401, 'unauthorized')
    await expectError(await api.request(`/v1/links/${mine.link.id}`, { key: 'lct_forged' }), 404, 'not_found')
  })

  it('a client token past its link deadline still reads the outcome, and nothing else', async () => {
    const { link, clientToken } = await createLink()
    await giveQr(link.id)
    await store.update(link.id, { from: ['pending'], patch: { expiresAt: new Date(Date.now() - 1000).toISOString() } })
    const res = await api.request(`/v1/links/${link.id}`, { key: clientToken })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'expired', error: { code: 'deadline' }, qr: null, pairingCode: null, pollAfterMs: null })
    await expectError(await api.request(`/v1/links/${link.id}/qr.svg`, { key: clientToken }), 409, 'no_qr')
    await expectError(await api.request(`/v1/links/${link.id}/credentials`, { key: clientToken }), 401, 'unauthorized')
  })
})

describe('GET /v1/links/{id}', () => {
  it('sends an ETag and answers If-None-Match with 304 until the link changes', async () => {
    const { link } = await createLink()
    const first = await api.request(`/v1/links/${link.id}`, { key })
    expect(first.status).toBe(200)
    expect(first.headers.get('cache-control')).toBe('no-store')
    const tag = first.headers.get('etag')!
    expect(tag).toMatch(/^"[0-9a-f]+"$/)
    const again = await api.request(`/v1/links/${link.id}`, { key, headers: { 'if-none-match': tag } })
    expect(again.status).toBe(304)
    expect(again.headers.get('etag')).toBe(tag)
    await giveQr(link.id)
    const changed = await api.request(`/v1/links/${link.id}`, { key, headers: { 'if-none-match': tag } })
    expect(changed.status).toBe(200)
    expect(changed.headers.get('etag')).not.toBe(tag)
    expect((await changed.json()).qr).toMatchObject({ sequence: 1, imageUrl: `/v1/links/${link.id}/qr.svg` })
  })

  it('reads a link past its deadline as expired even when nothing updated it', async () => {
    const { link } = await createLink()
    await store.update(link.id, { from: ['pending'], to: 'starting' })
    await giveQr(link.id)
    await store.update(link.id, { from: ['starting'], to: 'awaiting_scan', patch: { expiresAt: new Date(Date.now() - 1).toISOString() } })
    const view = await (await api.request(`/v1/links/${link.id}`, { key })).json()
    expect(view).toMatchObject({ status: 'expired', qr: null, error: { code: 'deadline' }, pollAfterMs: null })
    const expired = await (await api.request('/v1/links?status=expired&limit=100', { key })).json()
    expect(expired.links.map((l: { id: string }) => l.id)).toContain(link.id)
    const awaiting = await (await api.request('/v1/links?status=awaiting_scan&limit=100', { key })).json()
    expect(awaiting.links.map((l: { id: string }) => l.id)).not.toContain(link.id)
  })

  it('404 for an unknown or malformed id', async () => {
    await expectError(await api.request('/v1/links/lnk_00000000000000000000000000', { key }), 404, 'not_found')
    await expectError(await api.request('/v1/links/nope', { key }), 404, 'not_found')
  })
})

describe('QR images', () => {
  it('renders the current QR as SVG and as a PNG that decodes to the stored value', async () => {
    const { link } = await createLink()
    const value = `https://wa.me/settings/linked_devices#${'r'.repeat(40)},n,i,a,1`
    await giveQr(link.id, value, 3)
    const svg = await api.request(`/v1/links/${link.id}/qr.svg`, { key })
    expect(svg.status).toBe(200)
    expect(svg.headers.get('content-type')).toBe('image/svg+xml')
    expect(svg.headers.get('x-qr-sequence')).toBe('3')
    expect(await svg.text()).toMatch(/^<svg[\s\S]*<\/svg>\s*$/)
    const png = await api.request(`/v1/links/${link.id}/qr.png`, { key })
    expect(png.headers.get('content-type')).toBe('image/png')
    const image = PNG.sync.read(Buffer.from(await png.arrayBuffer()))
    const decoded = jsQR(new Uint8ClampedArray(image.data), image.width, image.height)
    expect(decoded?.data).toBe(value)
  })

  it('409 no_qr when the link has no QR now', async () => {
    const { link } = await createLink()
    await expectError(await api.request(`/v1/links/${link.id}/qr.png`, { key }), 409, 'no_qr')
    await store.update(link.id, { from: ['pending'], patch: { qr: { value: 'old', sequence: 1, expiresAt: new Date(Date.now() - 1).toISOString() } } })
    await expectError(await api.request(`/v1/links/${link.id}/qr.svg`, { key }), 409, 'no_qr')
  })
})

describe('GET /v1/links', () => {
  it('pages newest first with a cursor, and filters by status', async () => {
    const k = await api.newTenantKey(`pager-${Math.random().toString(36).slice(2)}`)
    const ids: string[] = []
    for (let i = 0; i < 7; i++) ids.push((await createLink({}, k)).link.id)
    await api.request(`/v1/links/${ids[2]}`, { method: 'DELETE', key: k })
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res: Response = await api.request(`/v1/links?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { key: k })
      expect(res.status).toBe(200)
      const page: { links: { id: string }[]; nextCursor: string | null } = await res.json()
      expect(page.links.length).toBeLessThanOrEqual(3)
      seen.push(...page.links.map((l) => l.id))
      cursor = page.nextCursor
      pages++
    } while (cursor)
    expect(seen).toEqual([...ids].reverse())
    expect(pages).toBe(3)
    const cancelled = await (await api.request('/v1/links?status=cancelled', { key: k })).json()
    expect(cancelled.links.map((l: { id: string }) => l.id)).toEqual([ids[2]])
    const pending = await (await api.request('/v1/links?status=pending&limit=2', { key: k })).json()
    expect(pending.links.map((l: { id: string }) => l.id)).toEqual([ids[6], ids[5]])
  })

  it.each([
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
    ['status=bogus', 'status'],
    ['cursor=not-a-cursor', 'cursor'],
  ])('400 for %s', async (query, field) => {
    await expectError(await api.request(`/v1/links?${query}`, { key }), 400, 'invalid_input', field)
  })

  it("refuses a cursor forged to point into another tenant's partition", async () => {
    const forged = Buffer.from(JSON.stringify({ pk: 'LINK#x', sk: 'LINK', gsi1pk: 'TENANT#globex', gsi1sk: 'z' })).toString('base64url')
    await expectError(await api.request(`/v1/links?cursor=${forged}`, { key }), 400, 'invalid_input', 'cursor')
  })
})

describe('DELETE /v1/links/{id}', () => {
  it('cancels a link in progress; again is a no-op; a finished link is 409', async () => {
    const { link } = await createLink()
    const res = await api.request(`/v1/links/${link.id}`, { method: 'DELETE', key })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' }, pollAfterMs: null })
    expect((await api.request(`/v1/links/${link.id}`, { method: 'DELETE', key })).status).toBe(200)
    const failed = await createLink()
    await store.update(failed.link.id, { from: ['pending'], to: 'failed', patch: { error: { code: 'launch_failed', message: 'x' } } })
    await expectError(await api.request(`/v1/links/${failed.link.id}`, { method: 'DELETE', key }), 409, 'link_final')
  })
})

describe('rate limits', () => {
  it('429 with Retry-After once a tenant starts too many links a minute', async () => {
    const limited = await startTestApi({ limits: { createPerMinute: 2 } })
    try {
      const k = await limited.newTenantKey('burst')
      expect((await limited.request('/v1/links', { method: 'POST', key: k, json: {} })).status).toBe(201)
      expect((await limited.request('/v1/links', { method: 'POST', key: k, json: {} })).status).toBe(201)
      const res = await limited.request('/v1/links', { method: 'POST', key: k, json: {} })
      await expectError(res, 429, 'rate_limited')
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(60)
      // Another tenant is unaffected.
      expect((await limited.request('/v1/links', { method: 'POST', key: await limited.newTenantKey('calm'), json: {} })).status).toBe(201)
    } finally {
      await limited.close()
    }
  })
})

describe('limits', () => {
  let limited: TestApi
  beforeAll(async () => {
    limited = await startTestApi({ limits: { activeLinks: 3 } })
  })
  afterAll(() => limited.close())
  const post = (k: string, json: unknown) => limited.request('/v1/links', { method: 'POST', key: k, json })

  it('3 pairing codes a minute per phone number, across tenants, counting QR → code switches', async () => {
    const [a, b] = [await limited.newTenantKey('phone-a'), await limited.newTenantKey('phone-b')]
    const number = '+1 415 555 0101'
    const switched = (await (await post(a, {})).json()).link.id
    for (const k of [a, b]) expect((await post(k, { method: 'code', phoneNumber: number })).status).toBe(201)
    // A switch is a pairing-code request too: the third for this number.
    expect((await limited.request(`/v1/links/${switched}/pairing-code`, { method: 'POST', key: a, json: { phoneNumber: number } })).status).toBe(202)
    const refused = await post(b, { method: 'code', phoneNumber: '14155550101' })
    const body = await expectError(refused, 429, 'rate_limited')
    expect(body.error.message).toMatch(/pairing codes requested for this phone number \(at most 3 a minute\)/)
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    const another = (await (await post(b, {})).json()).link.id
    await expectError(await limited.request(`/v1/links/${another}/pairing-code`, { method: 'POST', key: b, json: { phoneNumber: number } }), 429, 'rate_limited')
    // Other numbers and QR links are not affected; a refused request used up nothing.
    expect((await post(b, { method: 'code', phoneNumber: '+1 415 555 0102' })).status).toBe(201)
  })

  it(`caps a tenant's links in progress; finished, linked and expired ones do not count`, async () => {
    const k = await limited.newTenantKey('busy')
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await (await post(k, { ttlSeconds: 120 })).json()).link.id)
    const refused = await post(k, {})
    const body = await expectError(refused, 429, 'rate_limited')
    expect(body.error.message).toMatch(/links in progress for this tenant \(at most 3 at once\)/)
    // Retry-After: when the first of them reaches its deadline at the latest.
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(100)
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(120)
    // Another tenant has its own cap.
    expect((await post(await limited.newTenantKey('idle'), {})).status).toBe(201)

    const limitedStore = new LinkStore(limited.doc, limited.tableName)
    expect((await limited.request(`/v1/links/${ids[0]}`, { method: 'DELETE', key: k })).status).toBe(200)
    ids.push((await (await post(k, {})).json()).link.id)
    await expectError(await post(k, {}), 429, 'rate_limited')
    await limitedStore.update(ids[1], { from: ['pending'], patch: { expiresAt: new Date(Date.now() - 1000).toISOString() } })
    ids.push((await (await post(k, {})).json()).link.id)
    await expectError(await post(k, {}), 429, 'rate_limited')
    await limitedStore.update(ids[2], { from: ['pending'], to: 'starting' })
    await limitedStore.update(ids[2], { from: ['starting'], to: 'awaiting_scan' })
    await limitedStore.update(ids[2], { from: ['awaiting_scan'], to: 'pairing' })
    await limitedStore.update(ids[2], { from: ['pairing'], to: 'linked' })
    expect((await post(k, {})).status).toBe(201)
    await expectError(await post(k, {}), 429, 'rate_limited')
  })
  it('holds the cap when requests arrive together, and a refused create uses up nothing', async () => {
    const k = await limited.newTenantKey('stampede')
    const statuses = (await Promise.all(Array.from({ length: 10 }, () => post(k, {})))).map((r) => r.status)
    expect(statuses.filter((s) => s === 201)).toHaveLength(3)
    expect(statuses.filter((s) => s === 429)).toHaveLength(7)
    const { links } = await (await limited.request('/v1/links', { key: k })).json()
    expect(links).toHaveLength(3)
    // The seven refusals took none of the tenant's create-per-minute counter: it counted three.
    const counters = await limited.doc.send(new ScanCommand({ TableName: limited.tableName, FilterExpression: 'begins_with(pk, :p)', ExpressionAttributeValues: { ':p': 'RATE#create#stampede#' } }))
    expect(counters.Items?.map((item) => item.count)).toEqual([3])
  })
})

describe('system routes', () => {
  it('serves /healthz, the OpenAPI 3.1 document and a docs page', async () => {
    expect(await (await api.request('/healthz')).json()).toEqual({ status: 'ok' })
    const doc = await (await api.request('/openapi.json')).json()
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/links', '/v1/links/{id}', '/v1/links/{id}/qr.svg', '/v1/links/{id}/qr.png']))
    expect(doc.paths['/v1/links'].post.requestBody.content['application/json'].schema).toBeDefined()
    expect(doc.components.securitySchemes.bearer.scheme).toBe('bearer')
    const docs = await api.request('/docs')
    expect(docs.headers.get('content-type')).toMatch(/text\/html/)
    const html = await docs.text()
    expect(html).toContain('/v1/links/{id}/qr.png')
    expect(html).toContain('Start a link')
  })

  it('lets browser apps call with a bearer token from any origin (CORS)', async () => {
    const preflight = await api.request('/v1/links/lnk_00000000000000000000000000', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization,if-none-match' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/i)
    const { link, clientToken } = await createLink()
    const res = await api.request(`/v1/links/${link.id}`, { key: clientToken, headers: { origin: 'https://app.example.com' } })
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-expose-headers')).toMatch(/etag/i)
  })

  it('answers unknown routes with the JSON error shape', async () => {
    await expectError(await api.request('/nope'), 404, 'not_found')
  })
})

describe('logs', () => {
  it('never contain an API key or a client token', async () => {
    const { link, clientToken } = await createLink()
    await api.request(`/v1/links/${link.id}`, { key: clientToken })
    await api.request(`/v1/links/${link.id}`, { key: 'lct_wrong-token-value' })
    await api.request('/v1/links', { key: 'wlb_0000000000000000_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB' })
    const text = api.logs.text
    expect(api.logs.lines.length).toBeGreaterThan(10)
    expect(text).toContain(link.id)
    for (const secret of [key, otherKey, clientToken, 'lct_wrong-token-value', 'BBBBBBBBBBBBBBBBBBBBBBBB']) expect(text).not.toContain(secret)
    expect(text).not.toMatch(/wlb_[0-9a-z]{16}_/)
    expect(text).not.toMatch(/lct_[A-Za-z0-9_-]{20,}/)
  })
})
