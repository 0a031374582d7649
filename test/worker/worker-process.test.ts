import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HostRegistry } from '@wa-link-broker/core/hosts'
import { newLinkId, type Link } from '@wa-link-broker/core/link'
import { LinkStore } from '@wa-link-broker/core/store'
import { buildWorker } from '../../scripts/build.ts'
import { createTestTable } from '../support/store.ts'

/** The production worker bundle, as a process: what ECS and the local launcher run. */
let bundle: string
let dir: string
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'worker-bundle-'))
  bundle = (await buildWorker({ outDir: dir })).file
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function run(env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now()
  const child = spawn(process.execPath, [bundle], { env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  return new Promise((resolve) => child.once('exit', (code) => (clearTimeout(timer), resolve({ code, out, ms: Date.now() - started }))))
}

describe('the worker process', () => {
  it('refuses a bad configuration at start, naming the variable, before touching anything', async () => {
    const { code, out } = await run({ WORKER_MODE: 'host', WORKER_MAX_SESSIONS: 'lots', TABLE_NAME: 'nowhere-table' })
    expect(code).toBe(1)
    expect(out.trim()).toBe('Invalid configuration: WORKER_MAX_SESSIONS: must be a whole number from 1 to 1000')
  })

  it('a host started for a link that needs nothing exits once idle, and removes its item', async () => {
    const { doc, tableName, endpoint } = await createTestTable('worker-process')
    const store = new LinkStore(doc, tableName)
    const now = new Date()
    const link: Link = {
      id: newLinkId(), tenantId: 't', status: 'cancelled', method: 'qr', phoneNumber: null, qr: null, pairingCode: null, account: null, error: null,
      metadata: {}, webhookUrl: null, createdAt: now.toISOString(), updatedAt: now.toISOString(), expiresAt: new Date(now.getTime() + 60_000).toISOString(),
      version: 1, leaseToken: 0, heartbeatAt: null, workerId: null, clientTokenHashes: [],
    }
    await store.create(link)
    const { code, out, ms } = await run({
      WORKER_MODE: 'host', LINK_ID: link.id, WORKER_HOST_ID: 'idle-host', WORKER_IDLE_EXIT_MS: '500',
      TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint, DATA_KEY: Buffer.alloc(32, 7).toString('base64'), LOG_LEVEL: 'info',
    })
    expect(code, out).toBe(0)
    expect(out).toContain('"reason":"idle"')
    expect(ms).toBeLessThan(15_000)
    expect(await new HostRegistry(doc, tableName).read('idle-host')).toBeNull()
  })
})
