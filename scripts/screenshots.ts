/**
 * `npm run screenshots`: the hosted link page in each state, on a 390×844 phone screen, written to
 * docs/screenshots/. Everything real: DynamoDB Local, the API, worker processes, the WhatsApp
 * simulator, Debian's chromium.
 */
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { IN_PROGRESS_STATUSES, linkEnding } from '@wa-link-broker/core'
import type { Page } from 'playwright-core'
import { startDynamoDbLocal } from './dynamodb-local.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = resolve(root, 'docs/screenshots')

async function main() {
  const dynamo = await startDynamoDbLocal()
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint
  // Test support builds the whole product on one machine; imported once DynamoDB Local is up.
  const { startE2E } = await import('../test/support/e2e.ts')
  const { launchChromium, phonePage } = await import('../test/support/browser.ts')
  const e2e = await startE2E()
  const browser = await launchChromium()
  mkdirSync(outDir, { recursive: true })
  const written: string[] = []
  const shoot = async (page: Page, name: string) => {
    const file = resolve(outDir, `${name}.png`)
    await page.screenshot({ path: file })
    written.push(file)
  }
  const openPage = async (url: string, state: string) => {
    const { page, context } = await phonePage(browser)
    await page.goto(url)
    await page.waitForSelector(`[data-screen="${state}"]`, { timeout: 20_000 })
    return { page, context }
  }
  try {
    // QR, then the same page once the simulated phone scanned it.
    const qr = await e2e.createLink()
    const a = await openPage(qr.pageUrl, 'qr')
    await shoot(a.page, 'qr')
    await e2e.sim.scan((await e2e.read(qr.id)).qr!.value)
    await a.page.waitForSelector('[data-screen="linked"]', { timeout: 20_000 })
    await shoot(a.page, 'linked')
    await a.context.close()

    const code = await e2e.createLink({ method: 'code', phoneNumber: '+44 20 7946 0958' })
    const b = await openPage(code.pageUrl, 'code')
    await shoot(b.page, 'code')
    await b.context.close()

    const expired = await e2e.createLink()
    const c = await openPage(expired.pageUrl, 'qr')
    await e2e.store.update(expired.id, { from: IN_PROGRESS_STATUSES, patch: { expiresAt: new Date(Date.now() - 1000).toISOString() } })
    await c.page.waitForSelector('[data-screen="ended"]', { timeout: 20_000 })
    await shoot(c.page, 'expired')
    await c.context.close()

    const failed = await e2e.createLink()
    const d = await openPage(failed.pageUrl, 'qr')
    await e2e.store.update(failed.id, { from: IN_PROGRESS_STATUSES, to: 'failed', patch: { qr: null, error: linkEnding('passkey_required') } })
    await d.page.waitForSelector('[data-screen="ended"]', { timeout: 20_000 })
    await shoot(d.page, 'failed')
    await d.context.close()
  } finally {
    await browser.close()
    await e2e.stop()
    await dynamo.stop()
  }
  for (const file of written) console.log(`wrote ${file.slice(root.length + 1)}`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
