import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_SIGNING_SECRETS, ROTATION_OVERLAP_MS, TOO_MANY_ROTATIONS } from '@wa-link-broker/core/webhooks'
import { startTestApi, type TestApi } from '../support/api.ts'

/** The webhook endpoints and the webhookUrl rule, over real HTTP: AWS mode and local mode. */
let aws: TestApi
let local: TestApi
let awsKey: string
let localKey: string

beforeAll(async () => {
  ;[aws, local] = await Promise.all([startTestApi({ local: false }), startTestApi({ local: true })])
  ;[awsKey, localKey] = await Promise.all([aws.newTenantKey('acme'), local.newTenantKey('acme')])
})
afterAll(async () => {
  await aws?.close()
  await local?.close()
})

const create = (api: TestApi, key: string, webhookUrl: string) => api.request('/v1/links', { method: 'POST', key, json: { webhookUrl } })

describe('webhookUrl', () => {
  it.each([
    'http://hooks.example.com/x',
    'https://127.0.0.1/x',
    'https://10.0.0.8/x',
    'https://[::1]/x',
    'https://localhost/x',
    'https://intranet/x',
    'ftp://hooks.example.com/x',
  ])('AWS mode refuses %s with 400 naming webhookUrl', async (url) => {
    const res = await create(aws, awsKey, url)
    expect(res.status).toBe(400)
    expect((await res.json()).error).toMatchObject({ code: 'invalid_input', field: 'webhookUrl' })
  })

  it('AWS mode takes https:// with a domain name (its address is checked at each delivery)', async () => {
    expect((await create(aws, awsKey, 'https://hooks.example.com/wa?token=x')).status).toBe(201)
  })

  it('local mode takes http:// and loopback or private hosts too, and still refuses other schemes', async () => {
    for (const url of ['http://localhost:4000/hooks', 'http://127.0.0.1:9/x', 'https://192.168.1.20/x', 'https://hooks.example.com/x']) {
      expect((await create(local, localKey, url)).status, url).toBe(201)
    }
    const res = await create(local, localKey, 'file:///etc/passwd')
    expect(res.status).toBe(400)
    expect((await res.json()).error.field).toBe('webhookUrl')
  })
})

describe('webhook endpoints', () => {
  it('the secret is the tenant’s: stable across reads, new on rotate, per tenant', async () => {
    const read = async (key: string) => ((await (await local.request('/v1/webhook-secret', { key })).json()) as { secret: string }).secret
    const first = await read(localKey)
    expect(first).toMatch(/^whsec_/)
    expect(await read(localKey)).toBe(first)
    const other = await local.newTenantKey('globex')
    expect(await read(other)).not.toBe(first)
    const rotated = await local.request('/v1/webhook-secret/rotate', { method: 'POST', key: localKey })
    expect(rotated.status).toBe(200)
    expect(rotated.headers.get('cache-control')).toBe('no-store')
    const { secret } = (await rotated.json()) as { secret: string }
    expect(secret).not.toBe(first)
    expect(await read(localKey)).toBe(secret)
    expect(local.logs.text).not.toContain(first.slice(6))
    expect(local.logs.text).not.toContain(secret.slice(6))
  })

  it(`a rotation beyond ${MAX_SIGNING_SECRETS} signing secrets is 429 too_many_rotations with Retry-After until the oldest retires`, async () => {
    const key = await local.newTenantKey('rotator')
    const rotate = () => local.request('/v1/webhook-secret/rotate', { method: 'POST', key })
    const read = async () => ((await (await local.request('/v1/webhook-secret', { key })).json()) as { secret: string }).secret
    const first = await read()
    let last = first
    for (let i = 1; i < MAX_SIGNING_SECRETS; i++) {
      const res = await rotate()
      expect(res.status).toBe(200)
      last = ((await res.json()) as { secret: string }).secret
    }
    const refused = await rotate()
    expect(refused.status).toBe(429)
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(ROTATION_OVERLAP_MS / 1000 - 120)
    expect(retryAfter).toBeLessThanOrEqual(ROTATION_OVERLAP_MS / 1000)
    const { error } = (await refused.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe(TOO_MANY_ROTATIONS)
    expect(error.message).toMatch(new RegExp(`at most ${MAX_SIGNING_SECRETS} secrets`))
    expect(error.message).toContain(`retry after ${retryAfter} s`)
    // Refused means nothing changed: the current secret is the last one a rotation returned.
    expect(await read()).toBe(last)
    expect(local.logs.text).not.toContain(first.slice(6))
    expect(local.logs.text).not.toContain(last.slice(6))
  })

  it('needs a tenant key', async () => {
    expect((await local.request('/v1/webhook-secret')).status).toBe(401)
    expect((await local.request('/v1/webhook-secret/rotate', { method: 'POST' })).status).toBe(401)
    const res = await local.request('/v1/links', { method: 'POST', key: localKey, json: {} })
    const { link, clientToken } = await res.json()
    expect((await local.request('/v1/webhook-secret', { key: clientToken })).status).toBe(401)
    // A link without a webhook URL has an empty delivery log.
    const events = await local.request(`/v1/links/${link.id}/events`, { key: localKey })
    expect(events.status).toBe(200)
    expect(await events.json()).toEqual({ events: [] })
  })

  it('are in the OpenAPI document, and the webhookUrl no longer says delivery is not built', async () => {
    const doc = await (await local.request('/openapi.json')).json()
    for (const [path, method] of [['/v1/webhook-secret', 'get'], ['/v1/webhook-secret/rotate', 'post'], ['/v1/links/{id}/events', 'get'], ['/v1/links/{id}/events/{eventId}/redeliver', 'post']]) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined()
    }
    expect(doc.paths['/v1/links/{id}/events/{eventId}/redeliver'].post.responses['202']).toBeDefined()
    expect(doc.paths['/v1/webhook-secret/rotate'].post.responses['429']).toBeDefined()
    expect(doc.components.schemas.WebhookEvent.properties.state.enum).toEqual(['pending', 'delivered', 'failed'])
    // What is sent, as OpenAPI 3.1 `webhooks`: the payload and the Standard Webhooks headers.
    const sent = doc.webhooks['/link-event'].post
    expect(sent.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/WebhookPayload')
    expect(sent.parameters.map((p: { name: string }) => p.name)).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature'])
    expect(doc.components.schemas.WebhookPayload.properties.type.enum).toContain('link.qr_updated')
    const webhookUrl = doc.components.schemas.CreateLinkRequest.properties.webhookUrl.description as string
    expect(webhookUrl).not.toMatch(/not built/)
    expect(webhookUrl).toMatch(/Standard Webhooks/)
  })
})
