import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApi, type TestApi } from '../support/api.ts'

let api: TestApi
let aws: TestApi
let keyA: string
let keyB: string
let awsKey: string
beforeAll(async () => {
  ;[api, aws] = await Promise.all([startTestApi(), startTestApi({ local: false })])
  keyA = await api.newTenantKey('acme')
  keyB = await api.newTenantKey('globex')
  awsKey = await aws.newTenantKey('acme')
})
afterAll(() => Promise.all([api.close(), aws.close()]))

async function expect400(res: Response, field: string) {
  expect(res.status).toBe(400)
  const body = await res.json()
  expect(body.error).toMatchObject({ code: 'invalid_input', field })
  expect(body.error.message).toContain(field)
}

const INVALID_URLS = [
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '/relative/path',
  '//evil.example/x',
  'http://app.example.com/back',
  'ftp://app.example.com/',
  'https://user:secret@app.example.com/',
  `https://app.example.com/${'x'.repeat(2040)}`,
  ' https://app.example.com/',
  '',
  42,
]

describe('redirectUrl on POST /v1/links', () => {
  it('is stored with the link and shown in its view, to the tenant and the client token', async () => {
    const res = await api.request('/v1/links', { method: 'POST', key: keyA, json: { redirectUrl: 'https://app.example.com/wa/done?tab=2' } })
    expect(res.status).toBe(201)
    const { link, clientToken } = await res.json()
    expect(link.redirectUrl).toBe('https://app.example.com/wa/done?tab=2')
    expect((await (await api.request(`/v1/links/${link.id}`, { key: clientToken })).json()).redirectUrl).toBe('https://app.example.com/wa/done?tab=2')
    const plain = await (await api.request('/v1/links', { method: 'POST', key: keyA, json: {} })).json()
    expect(plain.link.redirectUrl).toBeNull()
    // The tenant's list (read from the tenant index's projection) shows it too.
    const listed = (await (await api.request('/v1/links?limit=5', { key: keyA })).json()).links
    expect(listed.find((l: { id: string }) => l.id === link.id).redirectUrl).toBe('https://app.example.com/wa/done?tab=2')
  })

  it.each(INVALID_URLS)('refuses %s with a 400 naming redirectUrl', async (redirectUrl) => {
    await expect400(await api.request('/v1/links', { method: 'POST', key: keyA, json: { redirectUrl } }), 'redirectUrl')
  })

  it('allows http://localhost and http://127.0.0.1 only in local mode', async () => {
    for (const redirectUrl of ['http://localhost:5173/back', 'http://127.0.0.1:8080/']) {
      expect((await api.request('/v1/links', { method: 'POST', key: keyA, json: { redirectUrl } })).status).toBe(201)
      await expect400(await aws.request('/v1/links', { method: 'POST', key: awsKey, json: { redirectUrl } }), 'redirectUrl')
    }
    expect((await aws.request('/v1/links', { method: 'POST', key: awsKey, json: { redirectUrl: 'https://app.example.com/' } })).status).toBe(201)
  })
})

describe('/v1/branding', () => {
  const brand = { name: 'Acme CRM', accentColor: '#0A7CFF', logoUrl: 'https://cdn.acme.example/logo.png', supportUrl: 'https://acme.example/help' }

  it('starts neutral, stores what the tenant puts, and replaces it as a whole', async () => {
    const tenant = await api.newTenantKey('fresh')
    expect(await (await api.request('/v1/branding', { key: tenant })).json()).toEqual({ name: null, accentColor: null, logoUrl: null, supportUrl: null })
    const put = await api.request('/v1/branding', { method: 'PUT', key: tenant, json: brand })
    expect(put.status).toBe(200)
    expect(await put.json()).toEqual({ ...brand, accentColor: '#0a7cff' })
    expect(await (await api.request('/v1/branding', { key: tenant })).json()).toEqual({ ...brand, accentColor: '#0a7cff' })
    await api.request('/v1/branding', { method: 'PUT', key: tenant, json: { name: 'Acme' } })
    expect(await (await api.request('/v1/branding', { key: tenant })).json()).toEqual({ name: 'Acme', accentColor: null, logoUrl: null, supportUrl: null })
  })

  it.each<[Record<string, unknown>, string]>([
    [{ name: 'x'.repeat(61) }, 'name'],
    [{ name: '   ' }, 'name'],
    [{ name: 7 }, 'name'],
    [{ name: 'a\u0000b' }, 'name'],
    [{ name: 'Acme\u202eMRC' }, 'name'],
    [{ accentColor: 'blue' }, 'accentColor'],
    [{ accentColor: '#abc' }, 'accentColor'],
    [{ accentColor: '#12345g' }, 'accentColor'],
    [{ accentColor: '0a7cff' }, 'accentColor'],
    ...INVALID_URLS.map((logoUrl): [Record<string, unknown>, string] => [{ logoUrl }, 'logoUrl']),
    ...INVALID_URLS.map((supportUrl): [Record<string, unknown>, string] => [{ supportUrl }, 'supportUrl']),
    [{ colour: '#000000' }, 'colour'],
  ])('refuses %j with a 400 naming %s', async (body, field) => {
    await expect400(await api.request('/v1/branding', { method: 'PUT', key: keyA, json: body }), field)
  })

  it('is the tenant’s own: B can neither read nor change A’s, and a client token cannot use it', async () => {
    await api.request('/v1/branding', { method: 'PUT', key: keyA, json: brand })
    await api.request('/v1/branding', { method: 'PUT', key: keyB, json: { name: 'Globex' } })
    expect((await (await api.request('/v1/branding', { key: keyB })).json()).name).toBe('Globex')
    expect((await (await api.request('/v1/branding', { key: keyA })).json()).name).toBe('Acme CRM')

    const { link, clientToken } = await (await api.request('/v1/links', { method: 'POST', key: keyA, json: {} })).json()
    expect((await api.request('/v1/branding', { key: clientToken })).status).toBe(401)
    expect((await api.request('/v1/branding', { method: 'PUT', key: clientToken, json: { name: 'Mallory' } })).status).toBe(401)
    // B cannot read A's brand through A's link either.
    expect((await api.request(`/v1/links/${link.id}/branding`, { key: keyB })).status).toBe(404)
    expect((await (await api.request('/v1/branding', { key: keyA })).json()).name).toBe('Acme CRM')
  })

  it('a link’s page always reads its own tenant’s brand, with the link’s client token', async () => {
    await api.request('/v1/branding', { method: 'PUT', key: keyA, json: brand })
    await api.request('/v1/branding', { method: 'PUT', key: keyB, json: { name: 'Globex', logoUrl: 'https://globex.example/logo.svg' } })
    const a = await (await api.request('/v1/links', { method: 'POST', key: keyA, json: {} })).json()
    const b = await (await api.request('/v1/links', { method: 'POST', key: keyB, json: {} })).json()
    expect((await (await api.request(`/v1/links/${a.link.id}/branding`, { key: a.clientToken })).json()).name).toBe('Acme CRM')
    expect((await (await api.request(`/v1/links/${b.link.id}/branding`, { key: b.clientToken })).json()).name).toBe('Globex')
    expect((await api.request(`/v1/links/${b.link.id}/branding`, { key: a.clientToken })).status).toBe(404)
    // The page's CSP admits images from its own tenant's logo origin, and only that one.
    const cspA = (await fetch(`${api.url}/link/${a.link.id}`)).headers.get('content-security-policy')!
    const cspB = (await fetch(`${api.url}/link/${b.link.id}`)).headers.get('content-security-policy')!
    expect(cspA).toContain('img-src https://cdn.acme.example;')
    expect(cspB).toContain('img-src https://globex.example;')
    expect((await fetch(`${api.url}/link/lnk_00000000000000000000000000`)).headers.get('content-security-policy')).toContain("img-src 'none'")
  })
})
