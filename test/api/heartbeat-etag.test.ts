import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LinkStore } from '@wa-link-broker/core/store'
import { startTestApi, type TestApi } from '../support/api.ts'

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(() => api?.close())

describe('a worker heartbeat is not a change a poller sees', () => {
  it('keeps the ETag: If-None-Match still answers 304 after heartbeats, and a real change breaks it', async () => {
    const key = await api.newTenantKey('acme')
    const { link, clientToken } = await (await api.request('/v1/links', { method: 'POST', key, json: {} })).json()
    const store = new LinkStore(api.doc, api.tableName)
    const claimed = await store.claim(link.id, ['pending'], 'starting')

    const first = await api.request(`/v1/links/${link.id}`, { key: clientToken })
    expect(first.status).toBe(200)
    const tag = first.headers.get('etag')!
    const body = await first.json()

    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 5))
      await store.heartbeat(link.id, { fence: claimed.leaseToken })
      const again = await api.request(`/v1/links/${link.id}`, { key: clientToken, headers: { 'if-none-match': tag } })
      expect(again.status).toBe(304)
    }
    const read = await api.request(`/v1/links/${link.id}`, { key: clientToken })
    expect(await read.json()).toEqual(body)
    expect((await store.get(link.id))!.heartbeatAt! > claimed.heartbeatAt!).toBe(true)

    await store.update(link.id, { from: ['starting'], to: 'awaiting_scan', fence: claimed.leaseToken })
    const changed = await api.request(`/v1/links/${link.id}`, { key: clientToken, headers: { 'if-none-match': tag } })
    expect(changed.status).toBe(200)
    expect(changed.headers.get('etag')).not.toBe(tag)
  })
})
