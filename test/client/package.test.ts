import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { packClient } from '../../scripts/pack-client.ts'
import { startTestApi, type TestApi } from '../support/api.ts'

const root = resolve(import.meta.dirname, '../..')
const tsc = join(root, 'node_modules/typescript/bin/tsc')

/** tsc's errors for a project ('' when it type-checks). */
function typeErrors(tsconfig: string): string {
  try {
    execFileSync(process.execPath, [tsc, '-p', tsconfig], { encoding: 'utf8' })
    return ''
  } catch (error) {
    return String((error as { stdout?: string }).stdout)
  }
}

/**
 * The SDK as a SaaS gets it: `npm run pack:client`'s tarball, unpacked into an empty project's
 * node_modules (its one dependency linked from this repository's, as the test has no registry to
 * install from), then used from plain Node — no tsx, no workspace — and from strict TypeScript.
 */
let api: TestApi
let project: string
let files: string[]
beforeAll(async () => {
  api = await startTestApi()
  const tarball = packClient()
  files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n')
  project = mkdtempSync(join(tmpdir(), 'wlb-sdk-consumer-'))
  const installed = join(project, 'node_modules/@wa-link-broker/client')
  mkdirSync(installed, { recursive: true })
  execFileSync('tar', ['xzf', tarball, '-C', installed, '--strip-components=1'])
  symlinkSync(join(root, 'node_modules/standardwebhooks'), join(project, 'node_modules/standardwebhooks'))
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'saas-backend', private: true, type: 'module' }))
}, 120_000)
afterAll(async () => {
  await api?.close()
  if (project) rmSync(project, { recursive: true, force: true })
})

describe('the packed client', () => {
  it('holds compiled JavaScript, declarations and the README; no sources, no tests', () => {
    expect(files).toContain('package/dist/index.js')
    expect(files).toContain('package/dist/index.d.ts')
    expect(files).toContain('package/README.md')
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([])
    expect(files.filter((f) => f.includes('.test.'))).toEqual([])
    // Declarations import `./x.js` as the JavaScript does: TypeScript before 5.0 cannot follow `./x.ts`.
    const declarations = files.filter((f) => f.endsWith('.d.ts'))
    expect(declarations.length).toBeGreaterThan(5)
    for (const file of declarations) {
      expect(readFileSync(join(project, 'node_modules/@wa-link-broker/client', file.replace(/^package\//, '')), 'utf8')).not.toMatch(/from\s+['"]\.{1,2}\/[^'"]+\.ts['"]/)
    }
  })

  it('works from plain Node: a backend starts a link, an app reads it with its token, a webhook verifies', async () => {
    const key = await api.newTenantKey('acme')
    writeFileSync(
      join(project, 'backend.js'),
      `import { WaLinkClient, NotFoundError, verifyWebhook } from '@wa-link-broker/client'
import { Webhook } from 'standardwebhooks'
const [baseUrl, apiKey] = process.argv.slice(2)
const backend = new WaLinkClient({ baseUrl, apiKey })
const { link, clientToken } = await backend.createLink({ metadata: { user: 7 } })
const app = new WaLinkClient({ baseUrl, clientToken })
const read = await app.getLink(link.id)
let missing = null
try { await backend.getLink('lnk_00000000000000000000000000') } catch (error) { missing = error instanceof NotFoundError }
const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')
const body = JSON.stringify({ type: 'link.updated', timestamp: new Date().toISOString(), data: { id: link.id } })
const id = 'msg_1', ts = Math.floor(Date.now() / 1000)
const signature = new Webhook(secret).sign(id, new Date(ts * 1000), body)
const event = verifyWebhook(body, { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature }, secret)
console.log(JSON.stringify({ created: link.id, read: read.id, status: read.status, missing, event: event.data.id, skew: Math.abs(app.now() - Date.now()) }))
`,
    )
    // Asynchronously: the API it calls answers from this process.
    const { stdout } = await promisify(execFile)(process.execPath, ['backend.js', api.url, key], { cwd: project, encoding: 'utf8', timeout: 20_000 })
    const result = JSON.parse(stdout.trim().split('\n').pop()!)
    expect(result.read).toBe(result.created)
    expect(result.created).toMatch(/^lnk_/)
    expect(['pending', 'starting']).toContain(result.status)
    expect(result.missing).toBe(true)
    expect(result.event).toBe(result.created)
    expect(result.skew).toBeLessThan(2_500)
  }, 30_000)

  it('types a strict TypeScript consumer, and its declarations catch a wrong use', () => {
    // A browser or React Native app's settings: no Node types; skipLibCheck as Vite's and Expo's
    // templates set it (standardwebhooks' own declarations name Node's Buffer).
    const tsconfig = { compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: [], noEmit: true, skipLibCheck: true } }
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ ...tsconfig, files: ['app.ts'] }))
    writeFileSync(
      join(project, 'app.ts'),
      `import { WaLinkClient, RateLimitedError, type Link } from '@wa-link-broker/client'
export async function show(client: WaLinkClient, id: string): Promise<string> {
  try {
    for await (const link of client.watchLink(id)) if (link.status === 'awaiting_scan' && link.qr) return link.qr.value
  } catch (error) {
    if (error instanceof RateLimitedError) return \`later: \${error.retryAfter}\`
  }
  const last: Link = await client.getLink(id)
  return last.error?.code ?? last.status
}
`,
    )
    expect(typeErrors(project)).toBe('')

    writeFileSync(join(project, 'tsconfig.wrong.json'), JSON.stringify({ ...tsconfig, files: ['wrong.ts'] }))
    writeFileSync(join(project, 'wrong.ts'), `import type { Link } from '@wa-link-broker/client'\nexport const n = (link: Link): number => link.status\n`)
    expect(typeErrors(join(project, 'tsconfig.wrong.json'))).toMatch(/wrong\.ts.*TS2322/)
  }, 60_000)
})
