import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApi, type TestApi } from '../support/api.ts'

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(() => api?.close())

/** One HTTP exchange with the response's raw header lines, so a duplicated header stays visible. */
function exchange(method: string, path: string, headers: Record<string, string>): Promise<{ status: number; raw: [string, string][] }> {
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${path}`, { method, headers }, (res) => {
      const raw: [string, string][] = []
      for (let i = 0; i < res.rawHeaders.length; i += 2) raw.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]])
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode!, raw }))
    })
    req.on('error', reject)
    req.end()
  })
}
const all = (raw: [string, string][], name: string) => raw.filter(([k]) => k === name).map(([, v]) => v)

describe('a browser polling a link from another origin', () => {
  it('preflight, GET, then If-None-Match → 304: each carries exactly one Access-Control-Allow-Origin', async () => {
    const key = await api.newTenantKey('acme')
    const { link, clientToken } = await (await api.request('/v1/links', { method: 'POST', key, json: {} })).json()
    const origin = 'https://app.example.com'
    const path = `/v1/links/${link.id}`

    const preflight = await exchange('OPTIONS', path, {
      origin,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization,if-none-match',
    })
    expect(preflight.status).toBe(204)
    expect(all(preflight.raw, 'access-control-allow-origin')).toEqual(['*'])
    expect(all(preflight.raw, 'access-control-allow-headers')[0]).toMatch(/If-None-Match/)
    expect(all(preflight.raw, 'access-control-allow-methods')[0]).toMatch(/GET/)

    const get = await exchange('GET', path, { origin, authorization: `Bearer ${clientToken}` })
    expect(get.status).toBe(200)
    expect(all(get.raw, 'access-control-allow-origin')).toEqual(['*'])
    expect(all(get.raw, 'access-control-expose-headers')[0]).toMatch(/\bDate\b.*ETag/)
    const [tag] = all(get.raw, 'etag')
    expect(tag).toBeTruthy()

    const notModified = await exchange('GET', path, { origin, authorization: `Bearer ${clientToken}`, 'if-none-match': tag })
    expect(notModified.status).toBe(304)
    expect(all(notModified.raw, 'access-control-allow-origin')).toEqual(['*'])
    expect(all(notModified.raw, 'access-control-expose-headers')[0]).toMatch(/ETag/)
    expect(all(notModified.raw, 'etag')).toEqual([tag])
    expect(all(notModified.raw, 'cache-control')).toEqual(['no-store'])
  })
})
