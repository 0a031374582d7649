import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createLogger } from '@wa-link-broker/core/logger'
import { createWaVersionResolver, parseWaVersion } from './wa-version.ts'

/** A stand-in for web.whatsapp.com/sw.js on 127.0.0.1: answers with whatever `body` holds now. */
let server: Server
let url: string
let body = ''
let status = 200
let hits = 0
beforeAll(async () => {
  server = createServer((_, res) => {
    hits++
    res.writeHead(status, { 'content-type': 'text/javascript' }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sw.js`
})
afterAll(() => new Promise((resolve) => server.close(resolve)))
afterEach(() => {
  hits = 0
  status = 200
  vi.unstubAllGlobals()
})

const swJs = (revision: number) => `self.__swData=JSON.parse(/*BTDS*/"{\\"dynamic_data\\":{\\"SiteData\\":{\\"server_revision\\":${revision},\\"client_revision\\":${revision}}}}");`
const logs: Record<string, unknown>[] = []
const logger = createLogger({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) })

describe('parseWaVersion', () => {
  it.each([
    ['2.3000.1012345678', [2, 3000, 1012345678]],
    [' 2.3000.5 ', [2, 3000, 5]],
    ['2.3000', null],
    ['3.3000.1', null],
    ['2.2412.1', null],
    ['2.3000.x', null],
  ])('%j → %j', (text, expected) => expect(parseWaVersion(text)).toEqual(expected))
})

describe('createWaVersionResolver', () => {
  it('uses a pinned version without asking anyone', async () => {
    body = swJs(1)
    const resolver = createWaVersionResolver({ pinned: [2, 3000, 42], sourceUrl: url, logger })
    expect(await resolver.resolve()).toEqual({ version: [2, 3000, 42], source: 'pinned' })
    expect(await resolver.refresh()).toEqual({ version: [2, 3000, 42], source: 'pinned' })
    expect(hits).toBe(0)
  })

  it('reads the latest from the source, keeps it for cacheMs, and refresh() asks again at once', async () => {
    let clock = 0
    body = swJs(1011111111)
    const resolver = createWaVersionResolver({ sourceUrl: url, logger, cacheMs: 60_000, now: () => clock })
    expect(await resolver.resolve()).toEqual({ version: [2, 3000, 1011111111], source: 'latest' })
    body = swJs(1022222222)
    clock = 59_000
    expect((await resolver.resolve()).version).toEqual([2, 3000, 1011111111])
    expect(hits).toBe(1)
    expect(await resolver.refresh()).toEqual({ version: [2, 3000, 1022222222], source: 'latest' })
    body = swJs(1033333333)
    clock = 59_000 + 60_000
    expect((await resolver.resolve()).version).toEqual([2, 3000, 1033333333])
    expect(hits).toBe(3)
    expect(logs.some((l) => l.msg === 'WhatsApp Web version' && l.waVersion === '2.3000.1033333333' && l.source === 'latest')).toBe(true)
  })

  it.each([
    ['an error status', 503, swJs(1)],
    ['a page without a revision', 200, '<html>blocked</html>'],
  ])('falls back to the version bundled with Baileys on %s', async (_, code, text) => {
    status = code
    body = text
    const { DEFAULT_CONNECTION_CONFIG } = await import('baileys')
    const resolved = await createWaVersionResolver({ sourceUrl: url, logger }).resolve()
    expect(resolved).toEqual({ version: DEFAULT_CONNECTION_CONFIG.version, source: 'bundled' })
    // Said in one line, without a stack.
    const fallback = logs.findLast((l) => String(l.msg).startsWith('could not read the latest WhatsApp Web version'))
    expect(fallback?.reason).toEqual(expect.any(String))
    expect(fallback).not.toHaveProperty('err')
  })

  it("without a source URL, asks Baileys' fetchLatestWaWebVersion, which reads web.whatsapp.com/sw.js", async () => {
    body = swJs(1044444444)
    const requested: string[] = []
    const realFetch = globalThis.fetch
    // Offline here: the request Baileys makes is answered by the local stand-in.
    vi.stubGlobal('fetch', (input: string | URL, init?: RequestInit) => {
      requested.push(String(input))
      return realFetch(url, init)
    })
    expect(await createWaVersionResolver({ logger }).resolve()).toEqual({ version: [2, 3000, 1044444444], source: 'latest' })
    expect(requested).toEqual(['https://web.whatsapp.com/sw.js'])
    status = 500
    expect((await createWaVersionResolver({ logger }).resolve()).source).toBe('bundled')
  })
})
