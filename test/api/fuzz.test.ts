import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { MAX_METADATA_DEPTH } from '../../packages/functions/src/schemas.ts'
import { startTestApi, type TestApi } from '../support/api.ts'

let api: TestApi
let key: string
beforeAll(async () => {
  api = await startTestApi()
  key = await api.newTenantKey('fuzz')
})
afterAll(() => api.close())

const field = fc.oneof(fc.constantFrom('method', 'phoneNumber', 'webhookUrl', 'metadata', 'ttlSeconds'), fc.string())
const value = fc.oneof(
  fc.constantFrom('qr', 'code', '+1 (234) 567-8901', 'https://example.com/hook', 60, 3600),
  // JSON that a DynamoDB map would refuse, as metadata: empty keys, numbers beyond its range.
  fc.constantFrom({ '': {} }, { a: { '': 1 } }, { big: 1e200, tiny: 1e-200 }, { deep: [[[{ '': null }]]] }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string(),
  fc.integer(),
  fc.double(),
)
const body = fc.oneof(
  fc.dictionary(field, value, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
)
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', '', 'application/merge-patch+json')
const idempotencyKey = fc.option(fc.string({ maxLength: 300 }), { nil: undefined })

it('arbitrary bodies POSTed to /v1/links never give a 5xx', async () => {
  const statuses = new Map<number, number>()
  await fc.assert(
    fc.asyncProperty(body, contentType, idempotencyKey, async (payload, type, idem) => {
      const headers: Record<string, string> = {}
      if (type) headers['content-type'] = type
      if (idem !== undefined) headers['idempotency-key'] = idem
      let res: Response
      try {
        res = await api.request('/v1/links', { method: 'POST', key, body: payload, headers })
      } catch (error) {
        // fetch itself refuses header values it cannot send (e.g. control characters): not a server answer.
        if (error instanceof TypeError) return
        throw error
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      expect(res.status).toBeLessThan(500)
      const answer = await res.json()
      if (res.status >= 400) expect(answer.error.code).toMatch(/^[a-z_]+$/)
    }),
    { numRuns: 500 },
  )
  // The property is only meaningful if both successes and rejections were exercised.
  expect([...statuses.keys()]).toEqual(expect.arrayContaining([201, 400, 415]))
})

it('arbitrary list queries and link paths never give a 5xx', async () => {
  const queryValue = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.constantFrom('pending', 'expired', '0', '101', '-1', '1e3', ''),
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
    fc.record({ pk: fc.string(), sk: fc.string(), gsi1pk: fc.constantFrom('TENANT#fuzz', 'TENANT#other'), gsi1sk: fc.string() }).map((k) => Buffer.from(JSON.stringify(k)).toString('base64url')),
  )
  const query = fc.dictionary(fc.constantFrom('status', 'limit', 'cursor', 'other'), queryValue, { maxKeys: 4 })
  const id = fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^lnk_[0-9a-z]{26}$/))
  const suffix = fc.constantFrom('', '/qr.svg', '/qr.png', '/credentials', '/pairing-code')
  await fc.assert(
    fc.asyncProperty(query, id, suffix, fc.constantFrom('GET', 'DELETE', 'POST'), async (q, linkId, tail, method) => {
      const list = await api.request(`/v1/links?${new URLSearchParams(q)}`, { key })
      expect(list.status).toBeLessThan(500)
      const res = await api.request(`/v1/links/${encodeURIComponent(linkId)}${tail}`, { method, key, ...(method === 'POST' ? { json: { phoneNumber: '+1 234 567 8901' } } : {}) })
      expect(res.status).toBeLessThan(500)
    }),
    { numRuns: 300 },
  )
})

it('metadata nested to any depth is a 201 within the bound and a 400 naming metadata beyond it, never a 5xx', async () => {
  // Built as text: the test's own JSON.stringify would overflow on the deep cases, as the server's once did.
  const opener = fc.constantFrom('[', '{"k":', '[1,', '{"":')
  const levels = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6000 }))
  // A short pattern of openers repeated to the chosen depth.
  const nesting = fc.tuple(levels, fc.array(opener, { minLength: 1, maxLength: 8 })).map(([n, pattern]) => Array.from({ length: n }, (_, i) => pattern[i % pattern.length]))
  const seen = new Set<number>()
  await fc.assert(
    fc.asyncProperty(nesting, async (openers) => {
      const inner = openers.join('') + 'null' + openers.map((o) => (o.startsWith('[') ? ']' : '}')).reverse().join('')
      const res = await api.request('/v1/links', { method: 'POST', key, body: `{"metadata":{"a":${inner}}}`, headers: { 'content-type': 'application/json' } })
      seen.add(res.status)
      const depth = openers.length + 1 // the metadata object itself is the first level
      if (depth <= MAX_METADATA_DEPTH) expect(res.status).toBe(201)
      else if (res.status !== 413) {
        expect(res.status).toBe(400)
        expect((await res.json()).error.field).toBe('metadata')
      }
    }),
    { numRuns: 120 },
  )
  expect([...seen]).toEqual(expect.arrayContaining([201, 400]))
})
