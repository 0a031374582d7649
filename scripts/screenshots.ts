/**
 * `npm run screenshots`: the hosted link page in each state (QR, code, linked, expired, failed), on a
 * 390×844 phone screen, neutral and in a tenant's brand, written to docs/screenshots/. Everything
 * real: DynamoDB Local, the API, worker processes, the WhatsApp simulator, Debian's chromium.
 */
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiKeyStore } from '@wa-link-broker/core/auth'
import { endingStatus, IN_PROGRESS_STATUSES, linkEnding } from '@wa-link-broker/core/link'
import type { Browser } from 'playwright-core'
import { startDynamoDbLocal } from './dynamodb-local.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = resolve(root, 'docs/screenshots')

/** A made-up tenant's logo, served from its own origin as a real logo would be. */
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#ffffff"/><path d="M14 48 30 14h4l16 34h-8l-4-9H26l-4 9zm15-16h10l-5-11z" fill="#5b2be0"/></svg>`

async function main() {
  const dynamo = await startDynamoDbLocal()
  // Test support builds the whole product on one machine.
  const { startE2E } = await import('../test/support/e2e.ts')
  const { launchChromium, phonePage } = await import('../test/support/browser.ts')
  const logoServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(LOGO))
  await new Promise<void>((r) => logoServer.listen(0, '127.0.0.1', r))
  const e2e = await startE2E({ dynamodbEndpoint: dynamo.endpoint })
  const browser = await launchChromium()
  mkdirSync(outDir, { recursive: true })
  const written: string[] = []

  async function shootStates(prefix: string, key: string) {
    const create = async (body: Record<string, unknown> = {}) => {
      const res = await e2e.request('/v1/links', { method: 'POST', key, json: body })
      const { link, pageUrl } = await res.json()
      return { id: link.id as string, pageUrl: pageUrl as string }
    }
    const open = async (b: Browser, url: string, state: string) => {
      const opened = await phonePage(b)
      await opened.page.goto(url)
      await opened.page.waitForSelector(`[data-screen="${state}"]`, { timeout: 20_000 })
      await opened.page.waitForFunction(() => document.fonts.ready.then(() => true))
      await opened.page.waitForFunction(() => {
        const logo = document.getElementById('logo') as HTMLImageElement
        return logo.hidden || logo.complete
      })
      return opened
    }
    const shoot = async (page: import('playwright-core').Page, name: string) => {
      const file = resolve(outDir, `${prefix}${name}.png`)
      await page.screenshot({ path: file })
      written.push(file)
    }
    // QR, then the same page once the simulated phone scanned it.
    const qr = await create()
    const a = await open(browser, qr.pageUrl, 'qr')
    await a.page.waitForTimeout(prefix ? 500 : 0) // the brand arrives with its own request
    await shoot(a.page, 'qr')
    await e2e.sim.scan((await e2e.read(qr.id, key)).qr!.value)
    await a.page.waitForSelector('[data-screen="linked"]', { timeout: 20_000 })
    await shoot(a.page, 'linked')
    await a.context.close()

    const code = await create({ method: 'code', phoneNumber: '+44 20 7946 0958' })
    const b = await open(browser, code.pageUrl, 'code')
    await b.page.waitForTimeout(prefix ? 500 : 0)
    await shoot(b.page, 'code')
    await b.context.close()

    const expired = await create()
    const c = await open(browser, expired.pageUrl, 'qr')
    await e2e.store.update(expired.id, { from: IN_PROGRESS_STATUSES, patch: { expiresAt: new Date(Date.now() - 1000).toISOString() } })
    await c.page.waitForSelector('[data-screen="ended"]', { timeout: 20_000 })
    await shoot(c.page, 'expired')
    await c.context.close()

    const failed = await create()
    const d = await open(browser, failed.pageUrl, 'qr')
    await e2e.store.update(failed.id, { from: IN_PROGRESS_STATUSES, to: endingStatus('passkey_required'), patch: { qr: null, error: linkEnding('passkey_required') } })
    await d.page.waitForSelector('[data-screen="ended"]', { timeout: 20_000 })
    await shoot(d.page, 'failed')
    await d.context.close()
  }

  try {
    await shootStates('', e2e.stack.apiKey)
    const acme = (await new ApiKeyStore(e2e.doc, e2e.tableName).create('acme')).key
    const logoUrl = `http://127.0.0.1:${(logoServer.address() as AddressInfo).port}/logo.svg`
    const res = await e2e.request('/v1/branding', { method: 'PUT', key: acme, json: { name: 'Acme CRM', accentColor: '#5b2be0', logoUrl, supportUrl: 'https://acme.example/help' } })
    if (res.status !== 200) throw new Error(`PUT /v1/branding → ${res.status} ${await res.text()}`)
    await shootStates('branded-', acme)
  } finally {
    await browser.close()
    await e2e.stop()
    await dynamo.stop()
    logoServer.close()
  }
  for (const file of written) console.log(`wrote ${file.slice(root.length + 1)}`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
