import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const doc = readFileSync(resolve(root, 'docs/architecture.md'), 'utf8')
const walk = doc.slice(doc.indexOf('## One link'))
const coreExports = Object.keys(JSON.parse(readFileSync(resolve(root, 'packages/core/package.json'), 'utf8')).exports)

/** Every repository path the text names in backticks. */
const pathsIn = (text: string) => [...new Set([...text.matchAll(/`((?:packages|scripts|test|docs|bench)\/[^`\s]+\.[a-z]+)`/g)].map((m) => m[1]))]

describe('docs/architecture.md stays true', () => {
  it('every file it names exists', () => {
    expect(pathsIn(doc).filter((path) => !existsSync(resolve(root, path)))).toEqual([])
  })

  it('the walk of a link names the files it passes, from the route to the webhook', () => {
    const walked = pathsIn(walk)
    expect(walked.length).toBeGreaterThan(30)
    for (const path of ['packages/functions/src/routes/links.ts', 'packages/core/src/link/service.ts', 'packages/core/src/store/link-store.ts', 'packages/core/src/hosts/dispatch.ts', 'packages/worker/src/host.ts', 'packages/worker/src/link-session.ts', 'packages/worker/src/fenced-writer.ts', 'packages/core/src/webhooks/dispatcher.ts']) {
      expect(walked).toContain(path)
    }
  })

  it('its table of core subpaths is package.json’s exports, no more and no less', () => {
    const named = [...doc.matchAll(/`@wa-link-broker\/core\/([^`]+)`/g)].map((m) => `./${m[1]}`)
    expect([...new Set(named)].sort()).toEqual([...coreExports].sort())
  })

  it('its links to other docs resolve', () => {
    for (const [, target] of doc.matchAll(/\]\(([^)#]+\.md)\)/g)) expect(existsSync(resolve(root, 'docs', target)), target).toBe(true)
  })
})
