import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { endingMessage } from '@wa-link-broker/client'
import { startE2E, type E2E } from '../support/e2e.ts'
import { decodeQrOnScreen, horizontalOverflow, launchChromium, phonePage } from '../support/browser.ts'

let e2e: E2E
let browser: Browser
beforeAll(async () => {
  ;[e2e, browser] = await Promise.all([startE2E(), launchChromium()])
})
afterAll(async () => {
  await browser?.close()
  await e2e?.stop()
})

/** Opens a page as a person would, on a 390×844 phone screen, recording every request. */
async function open(url: string) {
  const opened = await phonePage(browser)
  await opened.page.goto(url)
  return opened
}

async function screen(page: Page, kind: string, timeout = 15_000) {
  await page.waitForSelector(`[data-screen="${kind}"]`, { timeout })
  return (await page.textContent('#app'))!
}

/** Every request went to the service itself: no CDN, font, analytics or anything third-party. */
function expectOnlyService(requests: string[]) {
  const origin = new URL(e2e.stack.url).origin
  expect(requests.length).toBeGreaterThan(2)
  for (const url of requests) expect(new URL(url).origin).toBe(origin)
}

describe('the hosted link page, in Chromium', () => {
  it('shows a QR that links when the simulated phone scans what is on screen, then the account', async () => {
    const { id, clientToken, pageUrl } = await e2e.createLink()
    expect(pageUrl).toBe(`${e2e.stack.url}/link/${id}#token=${clientToken}`)
    const { page, context, requests } = await open(pageUrl)
    const polls: number[] = []
    page.on('response', (r) => r.url().endsWith(`/v1/links/${id}`) && polls.push(r.status()))
    try {
      await screen(page, 'qr')
      expect(await page.textContent('#app')).toContain('Link a device')
      // The token leaves the address bar once read, and a reload still opens the link.
      expect(page.url()).toBe(`${e2e.stack.url}/link/${id}`)
      await page.reload()
      await screen(page, 'qr')
      // The page polls with If-None-Match: while nothing changes, the answer is a bodiless 304.
      await page.waitForResponse((r) => r.url().endsWith(`/v1/links/${id}`) && r.status() === 304, { timeout: 5_000 })
      expect(await page.textContent('.expires')).toMatch(/New code in \d:\d\d/)
      // The pixels a person sees, decoded, are the QR WhatsApp issued.
      const seen = await decodeQrOnScreen(page)
      expect(seen).toBe((await e2e.read(id)).qr!.value)
      expect(await horizontalOverflow(page)).toEqual([])

      const device = await e2e.sim.scan(seen, { phoneNumber: '15550001111' })
      const text = await screen(page, 'linked')
      expect(text).toContain('WhatsApp linked')
      expect(text).toContain(`+${device.phoneNumber}`)
      expect(await horizontalOverflow(page)).toEqual([])

      expectOnlyService(requests)
      expect(polls.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2)
      // The token travels only in the fragment and the Authorization header: never in a request line, never in a log.
      for (const url of requests) expect(url).not.toContain(clientToken)
      expect(e2e.logs.text).not.toContain(clientToken)
    } finally {
      await context.close()
    }
  })

  it('a code link shows the code and its steps; entering it in the simulator links', async () => {
    const { id, pageUrl } = await e2e.createLink({ method: 'code', phoneNumber: '+44 20 7946 0958' })
    const { page, context, requests } = await open(pageUrl)
    try {
      const text = await screen(page, 'code')
      expect(text).toContain('Link with phone number instead')
      expect(text).toContain('+442079460958')
      const code = (await page.textContent('.code'))!
      expect(code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/)
      expect(code).toBe((await e2e.read(id)).pairingCode!.code)
      expect(await horizontalOverflow(page)).toEqual([])
      await e2e.sim.enterCode('442079460958', code)
      expect(await screen(page, 'linked')).toContain('+442079460958')
      expectOnlyService(requests)
    } finally {
      await context.close()
    }
  })

  it('cancel and expiry each show their own plain words, from the one table of endings', async () => {
    const cancelled = await e2e.createLink()
    const expired = await e2e.createLink()
    const a = await open(cancelled.pageUrl)
    const b = await open(expired.pageUrl)
    try {
      await Promise.all([screen(a.page, 'qr'), screen(b.page, 'qr')])
      expect((await e2e.request(`/v1/links/${cancelled.id}`, { method: 'DELETE' })).status).toBe(200)
      // The link's deadline passes (as if its five minutes were up): its worker ends it.
      await e2e.store.update(expired.id, { from: ['awaiting_scan'], patch: { expiresAt: new Date(Date.now() - 1000).toISOString() } })

      const cancelledText = await screen(a.page, 'ended')
      expect(cancelledText).toContain('This link was cancelled')
      expect(cancelledText).toContain(endingMessage('cancelled'))
      const expiredText = await screen(b.page, 'ended')
      expect(expiredText).toContain('This link expired')
      expect(expiredText).toContain(endingMessage('deadline'))
      expect(await a.page.$('svg.qr')).toBeNull()
      expect(await horizontalOverflow(b.page)).toEqual([])
    } finally {
      await Promise.all([a.context.close(), b.context.close()])
    }
  })

  it('a wrong or missing token has its own message, and leaks nothing of the link', async () => {
    const { id } = await e2e.createLink()
    for (const url of [`${e2e.stack.url}/link/${id}#token=lct_wrong`, `${e2e.stack.url}/link/${id}`, `${e2e.stack.url}/link/lnk_nope#token=lct_x`]) {
      const { page, context, requests } = await open(url)
      try {
        const text = await screen(page, 'no_access')
        expect(text).toContain('This link can’t be opened')
        expect(await page.$('svg.qr')).toBeNull()
        expect(await horizontalOverflow(page)).toEqual([])
        for (const request of requests) expect(new URL(request).origin).toBe(new URL(e2e.stack.url).origin)
      } finally {
        await context.close()
      }
    }
  })

  it('a phone whose clock is wrong still shows the QR, with the time WhatsApp gives it', async () => {
    for (const skewMs of [10 * 60_000, -10 * 60_000]) {
      const { id, pageUrl } = await e2e.createLink()
      const { page, context } = await phonePage(browser)
      try {
        // The device's clock runs 10 minutes fast, then slow; the page's timers still run.
        await page.clock.install({ time: Date.now() + skewMs })
        await page.clock.resume()
        await page.goto(pageUrl)
        await screen(page, 'qr')
        await page.waitForResponse((r) => r.url().includes('/v1/links/') && r.status() === 304, { timeout: 5_000 })
        await page.clock.runFor(1_100)
        expect(await page.$('svg.qr')).not.toBeNull()
        // The first QR lives 60 s: a clock 10 minutes off would show 0:00 or 10:5x.
        const left = (await page.textContent('.expires'))!.match(/(\d+):(\d\d)/)!
        const seconds = Number(left[1]) * 60 + Number(left[2])
        expect(seconds).toBeGreaterThan(30)
        expect(seconds).toBeLessThanOrEqual(62)
      } finally {
        await context.close()
        await e2e.request(`/v1/links/${id}`, { method: 'DELETE' })
      }
    }
  })

  it('serves the page with a strict CSP that still lets SaaS apps frame it', async () => {
    const res = await fetch(`${e2e.stack.url}/link/lnk_x`)
    expect(res.status).toBe(200)
    const csp = res.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("connect-src 'self'")
    expect(csp).toContain('frame-ancestors *')
    expect(csp).not.toContain('unsafe-inline')
    expect(res.headers.get('x-frame-options')).toBeNull()
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    const html = await res.text()
    expect(html).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/i)
  })
})

describe('QR rotation and exhaustion', () => {
  let fast: E2E
  beforeAll(async () => {
    // Each QR lives 2.5 s: time for a slow machine to screenshot and decode one before the next replaces it.
    fast = await startE2E({ sim: { refs: 3 }, qrTimeoutMs: 2500 })
  })
  afterAll(() => fast?.stop())

  it('replaces the image with each new QR, then says no QR was scanned in time', async () => {
    const { pageUrl } = await fast.createLink()
    const { page, context } = await phonePage(browser)
    try {
      // Counts the QR images on the page after every change to it, so "replaced, never stacked" holds at
      // every moment, not only when the test happens to look.
      await page.addInitScript(() => {
        const w = window as unknown as { maxQrImages: number }
        w.maxQrImages = 0
        new MutationObserver(() => {
          w.maxQrImages = Math.max(w.maxQrImages, document.querySelectorAll('svg.qr').length)
        }).observe(document, { childList: true, subtree: true })
      })
      await page.goto(pageUrl)
      await page.waitForSelector('svg.qr[data-sequence="1"]', { timeout: 15_000 })
      const first = await decodeQrOnScreen(page)
      await page.waitForSelector('svg.qr[data-sequence="2"]', { timeout: 10_000 })
      const second = await decodeQrOnScreen(page)
      expect(second).not.toBe(first)
      const text = await screen(page, 'ended')
      expect(await page.evaluate(() => (window as unknown as { maxQrImages: number }).maxQrImages)).toBe(1)
      expect(await page.$('svg.qr')).toBeNull()
      expect(text).toContain('This link expired')
      expect(text).toContain(endingMessage('qr_exhausted'))
    } finally {
      await context.close()
    }
  })
})
