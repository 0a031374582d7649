import { existsSync } from 'node:fs'
import jsQRModule from 'jsqr'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { PNG } from 'pngjs'

// jsqr is CommonJS with `export default` typings: the default import is the function at run time.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it when missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * The flags this machine needs: no sandbox as root, and no background networking (the closed
 * network refuses Chromium's own calls home). Playwright gives every launch a fresh profile.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH).`)
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true })
}

/** A phone-sized page that records every request it makes. */
export async function phonePage(browser: Browser, options: { width?: number; height?: number } = {}): Promise<{ context: BrowserContext; page: Page; requests: string[] }> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 390, height: options.height ?? 844 }, deviceScaleFactor: 1 })
  const requests: string[] = []
  context.on('request', (request) => requests.push(request.url()))
  const page = await context.newPage()
  return { context, page, requests }
}

/** Screenshots the page and decodes the QR a person would see: the pixels, not the DOM. */
export async function decodeQrOnScreen(page: Page): Promise<string> {
  const png = PNG.sync.read(await page.screenshot({ fullPage: true }))
  const decoded = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height)
  if (!decoded) throw new Error('no QR code found in the screenshot')
  return decoded.data
}

/** What overflows the viewport horizontally: nothing, on a page that fits. */
export async function horizontalOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth
    const out: string[] = []
    if (document.documentElement.scrollWidth > width) out.push(`document scrollWidth ${document.documentElement.scrollWidth} > ${width}`)
    for (const node of Array.from(document.querySelectorAll('body *'))) {
      const rect = node.getBoundingClientRect()
      if (rect.width === 0 && rect.height === 0) continue
      if (rect.left < -0.5 || rect.right > width + 0.5) out.push(`${node.tagName.toLowerCase()}.${(node as HTMLElement).className} [${Math.round(rect.left)}, ${Math.round(rect.right)}]`)
    }
    return out
  })
}
