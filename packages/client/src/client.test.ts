import { describe, expect, it } from 'vitest'
import { WaLinkClient } from './client.ts'

/** A client whose every answer carries `Date: <device clock + skewMs>`. */
function clientAnsweredAt(skewMs: number) {
  const answer = async () =>
    new Response('{"name":null,"accentColor":null,"logoUrl":null,"supportUrl":null}', {
      headers: { 'content-type': 'application/json', date: new Date(Date.now() + skewMs).toUTCString() },
    })
  return new WaLinkClient({ baseUrl: 'https://links.example.com', clientToken: 'lct_x', fetch: answer })
}

describe('WaLinkClient.now', () => {
  it('is the device clock until the API has answered', () => {
    const client = clientAnsweredAt(600_000)
    expect(Math.abs(client.now() - Date.now())).toBeLessThan(50)
  })

  it('follows the API’s clock when the device’s is minutes off, either way', async () => {
    for (const skewMs of [600_000, -600_000, 5_000]) {
      const client = clientAnsweredAt(skewMs)
      await client.getLinkBranding('lnk_x')
      // The header has whole seconds: within a second of the API's clock.
      expect(Math.abs(client.now() - (Date.now() + skewMs))).toBeLessThanOrEqual(1_000)
    }
  })

  it('keeps the device clock when the difference is only the header’s rounding', async () => {
    const client = clientAnsweredAt(900)
    await client.getLinkBranding('lnk_x')
    expect(Math.abs(client.now() - Date.now())).toBeLessThan(50)
  })
})
