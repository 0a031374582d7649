import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { PNG } from 'pngjs'
import { ApiKeyStore } from '@wa-link-broker/core/auth'
import { IN_PROGRESS_STATUSES, LINK_STATUSES, linkEnding } from '@wa-link-broker/core/link'
import { startE2E, type E2E } from '../support/e2e.ts'
import { launchChromium, phonePage } from '../support/browser.ts'

/**
 * A stand-in SaaS on its own local origin: the page it returns to (/back), a page that frames the
 * hosted page (/frame?src=…), and a logo (/logo.png). It records every request it gets.
 */
async function startSaas() {
  const requests: { url: string; headers: IncomingHttpHeaders }[] = []
  const logo = new PNG({ width: 64, height: 64 })
  logo.data.fill(0x33)
  const logoPng = PNG.sync.write(logo)
  const server: Server = createServer((req, res) => {
    requests.push({ url: req.url!, headers: req.headers })
    const url = new URL(req.url!, 'http://x')
    if (url.pathname === '/logo.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(logoPng)
    if (url.pathname === '/frame') {
      const src = url.searchParams.get('src')!.replace(/"/g, '&quot;')
      return res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><body><script>window.got = []; addEventListener('message', (e) => window.got.push({ origin: e.origin, data: e.data }))</script><iframe id="f" src="${src}" width="390" height="844"></iframe></body>`)
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Back in the app</title><h1>Back in the app</h1>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    /** Two origins of one server: http://localhost:P and http://127.0.0.1:P are not the same origin. */
    origin: `http://localhost:${port}`,
    otherOrigin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

let e2e: E2E
let browser: Browser
let saas: Awaited<ReturnType<typeof startSaas>>
beforeAll(async () => {
  ;[e2e, browser, saas] = await Promise.all([startE2E(), launchChromium(), startSaas()])
})
afterAll(async () => {
  await browser?.close()
  await e2e?.stop()
  await saas?.close()
})

async function landing(page: Page): Promise<URL> {
  await page.waitForURL((url) => url.origin === saas.origin, { timeout: 15_000 })
  await page.waitForSelector('h1')
  return new URL(page.url())
}

describe('back to the SaaS: redirectUrl', () => {
  it('linked: shows the outcome, then lands on the redirect URL with link_id and status, and no token', async () => {
    const { id, clientToken, pageUrl } = await e2e.createLink({ redirectUrl: `${saas.origin}/back?tab=whatsapp` })
    const { page, context } = await phonePage(browser)
    try {
      await page.goto(pageUrl)
      await page.waitForSelector('[data-screen="qr"]')
      await e2e.sim.scan((await e2e.read(id)).qr!.value)
      await page.waitForSelector('[data-screen="linked"]')
      const shownAt = Date.now()
      const url = await landing(page)
      expect(Date.now() - shownAt).toBeGreaterThan(1_500)
      expect(url.pathname).toBe('/back')
      expect(Object.fromEntries(url.searchParams)).toEqual({ tab: 'whatsapp', link_id: id, status: 'linked' })
      const arrival = saas.requests.find((r) => r.url.includes(id))!
      expect(arrival.url).not.toContain(clientToken)
      expect(arrival.headers.referer).toBeUndefined()
      expect(page.url()).not.toContain('lct_')
    } finally {
      await context.close()
    }
  })

  it('expired, failed and cancelled land with their status and error', async () => {
    const cases = [
      { status: 'expired', error: 'deadline', end: (id: string) => e2e.store.update(id, { from: IN_PROGRESS_STATUSES, patch: { expiresAt: new Date(Date.now() - 1000).toISOString() } }) },
      { status: 'failed', error: 'worker_lost', end: (id: string) => e2e.store.update(id, { from: IN_PROGRESS_STATUSES, to: 'failed', patch: { qr: null, error: linkEnding('worker_lost') } }) },
      { status: 'cancelled', error: 'cancelled', end: (id: string) => e2e.request(`/v1/links/${id}`, { method: 'DELETE' }) },
    ]
    await Promise.all(
      cases.map(async ({ status, error, end }) => {
        const { id, pageUrl } = await e2e.createLink({ redirectUrl: `${saas.origin}/back` })
        const { page, context } = await phonePage(browser)
        try {
          await page.goto(pageUrl)
          await page.waitForSelector('[data-screen="qr"]', { timeout: 15_000 })
          await end(id)
          await page.waitForSelector('[data-screen="ended"]', { timeout: 15_000 })
          const url = await landing(page)
          expect(Object.fromEntries(url.searchParams)).toEqual({ link_id: id, status, error })
        } finally {
          await context.close()
        }
      }),
    )
  })

  it('a link without redirectUrl never navigates away', async () => {
    const { id, pageUrl } = await e2e.createLink()
    const { page, context, requests } = await phonePage(browser)
    try {
      await page.goto(pageUrl)
      await page.waitForSelector('[data-screen="qr"]')
      await e2e.request(`/v1/links/${id}`, { method: 'DELETE' })
      await page.waitForSelector('[data-screen="ended"]')
      await page.waitForTimeout(3_500)
      // Still the page (its token fragment was taken out of the address bar once read).
      expect(page.url()).toBe(pageUrl.split('#')[0])
      expect(await page.textContent('#app')).toContain('This link was cancelled')
      for (const url of requests) expect(new URL(url).origin).toBe(new URL(e2e.stack.url).origin)
    } finally {
      await context.close()
    }
  })
})

describe('in a frame: postMessage', () => {
  it('posts every status change, in order, to the origin of redirectUrl, with no token or QR, and stays put', async () => {
    const { id, clientToken, pageUrl } = await e2e.createLink({ redirectUrl: `${saas.origin}/back` })
    const { page, context } = await phonePage(browser, { width: 500, height: 900 })
    // The same SaaS page on another origin (127.0.0.1 vs localhost) must hear nothing.
    const stranger = await phonePage(browser, { width: 500, height: 900 })
    try {
      await page.goto(`${saas.origin}/frame?src=${encodeURIComponent(pageUrl)}`)
      await stranger.page.goto(`${saas.otherOrigin}/frame?src=${encodeURIComponent(pageUrl)}`)
      const frame = page.frameLocator('#f')
      await frame.locator('[data-screen="qr"]').waitFor({ timeout: 15_000 })
      await e2e.sim.scan((await e2e.read(id)).qr!.value)
      await frame.locator('[data-screen="linked"]').waitFor({ timeout: 15_000 })
      await page.waitForTimeout(2_500)

      const got = (await page.evaluate('window.got')) as { origin: string; data: Record<string, unknown> }[]
      expect(got.length).toBeGreaterThanOrEqual(2)
      for (const { origin, data } of got) {
        expect(origin).toBe(new URL(e2e.stack.url).origin)
        expect(Object.keys(data).sort()).toEqual(['error', 'linkId', 'status', 'type'])
        expect(data).toMatchObject({ type: 'wa-link-broker:link', linkId: id, error: null })
      }
      const statuses = got.map((m) => m.data.status as string)
      expect(statuses.at(-1)).toBe('linked')
      expect(statuses).toContain('awaiting_scan')
      // In order: forward only, each status once.
      const order = statuses.map((s) => LINK_STATUSES.indexOf(s as never))
      expect(order).toEqual([...order].sort((a, b) => a - b))
      expect(new Set(statuses).size).toBe(statuses.length)
      const text = JSON.stringify(got)
      expect(text).not.toContain(clientToken)
      expect(text).not.toContain('linked_devices')

      // The framed page did not navigate: the embedding app decides what comes next.
      expect(await frame.locator('[data-screen="linked"]').count()).toBe(1)
      expect(await stranger.page.evaluate('window.got')).toEqual([])
    } finally {
      await context.close()
      await stranger.context.close()
    }
  })
})

describe('in a React Native WebView: its bridge', () => {
  it('hands the app every status change, as JSON, on window.ReactNativeWebView', async () => {
    const { id, clientToken, pageUrl } = await e2e.createLink()
    const { page, context } = await phonePage(browser)
    // What react-native-webview injects before the page's scripts run.
    await page.addInitScript(() => {
      const got: string[] = []
      Object.assign(window, { got, ReactNativeWebView: { postMessage: (data: string) => got.push(data) } })
    })
    try {
      await page.goto(pageUrl)
      await page.waitForSelector('[data-screen="qr"]')
      await e2e.request(`/v1/links/${id}`, { method: 'DELETE' })
      await page.waitForSelector('[data-screen="ended"]')
      const got = ((await page.evaluate('window.got')) as string[]).map((m) => JSON.parse(m))
      expect(got.at(-1)).toEqual({ type: 'wa-link-broker:link', linkId: id, status: 'cancelled', error: 'cancelled' })
      expect(got.map((m) => m.status)).toContain('awaiting_scan')
      expect(JSON.stringify(got)).not.toContain(clientToken)
    } finally {
      await context.close()
    }
  })
})

describe('the tenant’s brand', () => {
  it('shows the name, colour and logo (no referrer), and loads nothing but the service and the logo’s origin', async () => {
    const keys = new ApiKeyStore(e2e.doc, e2e.tableName)
    const acme = (await keys.create('acme-brand')).key
    const brand = { name: 'Acme CRM', accentColor: '#ffd400', logoUrl: `${saas.otherOrigin}/logo.png`, supportUrl: 'https://acme.example/help' }
    expect((await e2e.request('/v1/branding', { method: 'PUT', key: acme, json: brand })).status).toBe(200)
    const res = await e2e.request('/v1/links', { method: 'POST', key: acme, json: {} })
    const { pageUrl } = await res.json()
    const { page, context, requests } = await phonePage(browser)
    try {
      await page.goto(pageUrl)
      await page.waitForSelector('[data-screen="qr"]')
      await page.waitForFunction(() => (document.getElementById('logo') as HTMLImageElement).naturalWidth > 0)
      expect(await page.textContent('#title')).toBe('Link WhatsApp to Acme CRM')
      expect(await page.title()).toBe('Link WhatsApp to Acme CRM')
      const bar = await page.$eval('.bar', (el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color])
      expect(bar).toEqual(['rgb(255, 212, 0)', 'rgb(0, 0, 0)'])
      expect(await page.getAttribute('#logo', 'referrerpolicy')).toBe('no-referrer')
      expect(await page.getAttribute('#support-link', 'href')).toBe('https://acme.example/help')
      const origins = new Set(requests.map((url) => new URL(url).origin))
      expect(origins).toEqual(new Set([new URL(e2e.stack.url).origin, saas.otherOrigin]))
      const logoRequest = saas.requests.find((r) => r.url === '/logo.png')!
      expect(logoRequest.headers.referer).toBeUndefined()
    } finally {
      await context.close()
    }

    // Another tenant's link, on the same service: neutral, "Link WhatsApp", no logo.
    const plain = await e2e.createLink()
    const other = await phonePage(browser)
    try {
      await other.page.goto(plain.pageUrl)
      await other.page.waitForSelector('[data-screen="qr"]')
      await other.page.waitForTimeout(500)
      expect(await other.page.textContent('#title')).toBe('Link WhatsApp')
      expect(await other.page.isHidden('#logo')).toBe(true)
      expect(await other.page.isHidden('#support')).toBe(true)
    } finally {
      await other.context.close()
    }
  })
})
