import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { startE2E, type E2E } from '../support/e2e.ts'
import { launchChromium } from '../support/browser.ts'
import { startTestApi } from '../support/api.ts'

let e2e: E2E
let browser: Browser
beforeAll(async () => {
  ;[e2e, browser] = await Promise.all([startE2E({ simulatorControl: true }), launchChromium()])
})
afterAll(async () => {
  await browser?.close()
  await e2e?.stop()
})

describe('/demo, with the simulator', () => {
  it('starts a link through its backend, embeds the hosted page, and the simulated phone links it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const requests: { url: string; authorization?: string }[] = []
    context.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }))
    try {
      const page = await context.newPage()
      await page.goto(`${e2e.stack.url}/demo`)
      await page.click('button[type=submit]')
      const frame = page.frameLocator('#frame')
      await frame.locator('[data-screen="qr"]').waitFor({ timeout: 15_000 })
      await page.click('#simulate')
      await frame.locator('[data-screen="linked"]').waitFor({ timeout: 15_000 })
      // The demo hears the framed page (onLinkPageMessage), as an embedding app would.
      await page.locator('#messages li', { hasText: /^linked$/ }).waitFor({ timeout: 5_000 })
      expect(await page.locator('#messages li').first().textContent()).not.toBe('linked')

      // A brand set in the demo shows on the page.
      await page.fill('input[name=brandName]', 'Demo Co')
      await page.fill('input[name=brandColor]', '#0a7cff')
      await page.click('#brand')
      await frame.locator('#title', { hasText: 'Link WhatsApp to Demo Co' }).waitFor({ timeout: 10_000 })

      // The page never held the API key: its only credential is the link's client token, in the frame.
      expect(await page.content()).not.toContain(e2e.stack.apiKey)
      for (const r of requests) {
        expect(r.authorization ?? '').not.toContain(e2e.stack.apiKey)
        expect(new URL(r.url).origin).toBe(new URL(e2e.stack.url).origin)
      }

      // A code link, typed by the simulated phone.
      await page.check('input[value=code]')
      await page.fill('input[name=phoneNumber]', '+44 20 7946 0958')
      await page.click('button[type=submit]')
      await frame.locator('[data-screen="code"]').waitFor({ timeout: 15_000 })
      await page.click('#simulate')
      await frame.locator('[data-screen="linked"]').waitFor({ timeout: 15_000 })
      expect(await frame.locator('#app').textContent()).toContain('+442079460958')
    } finally {
      await context.close()
    }
  })

  it('exists only in local mode, and takes only JSON', async () => {
    expect((await fetch(`${e2e.stack.url}/demo/links`, { method: 'POST', body: 'method=qr', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(415)
    const aws = await startTestApi({ local: false })
    try {
      expect((await fetch(`${aws.url}/demo`)).status).toBe(404)
      expect((await fetch(`${aws.url}/demo/links`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404)
    } finally {
      await aws.close()
    }
  })
})
