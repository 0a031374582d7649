import { beforeAll, describe, expect, it } from 'vitest'
import type { ConnectionState } from 'baileys'
import { newLinkId, type Link } from '@wa-link-broker/core/link'
import { createLogger } from '@wa-link-broker/core/logger'
import { LinkStore, LogoutRequests, type LinkUpdate } from '@wa-link-broker/core/store'
import { loadWorkerConfig } from '../../packages/worker/src/config.ts'
import { LinkSession, type SessionContext } from '../../packages/worker/src/link-session.ts'
import { Reachability } from '../../packages/worker/src/reachability.ts'
import type { LinkSocket, SocketHandlers } from '../../packages/worker/src/socket.ts'
import { createWaVersionResolver } from '../../packages/worker/src/wa-version.ts'
import { LogCapture } from '../support/api.ts'
import { createTestTable } from '../support/store.ts'
import { createMemoryAuthState } from '../wa-sim/index.ts'

/**
 * The session against the real store (DynamoDB Local), with a stand-in for the Baileys socket: these
 * are the faults the simulator cannot produce on demand (a pairing-code request that throws, a
 * store that fails the final write).
 */

/** A store whose writes can be made to fail, as DynamoDB does when throttled or unreachable. */
class FlakyStore extends LinkStore {
  failing = false
  override update(id: string, update: LinkUpdate): Promise<Link> {
    return this.failing ? Promise.reject(new Error('DynamoDB is unavailable')) : super.update(id, update)
  }
}

class FakeSocket implements LinkSocket {
  codeRequests = 0
  failCodeRequests = 0
  ended = false
  constructor(private readonly handlers: SocketHandlers) {}
  emit(update: Partial<ConnectionState>) {
    this.handlers.onConnectionUpdate(update)
  }
  async requestPairingCode(): Promise<string> {
    this.codeRequests++
    if (this.failCodeRequests-- > 0) throw new Error('Connection Closed')
    return 'ABCD1234'
  }
  async logout() {}
  end() {
    this.ended = true
  }
}

let store: FlakyStore
let requests: LogoutRequests
beforeAll(async () => {
  const { doc, tableName } = await createTestTable('session')
  store = new FlakyStore(doc, tableName)
  requests = new LogoutRequests(doc, tableName, store)
})

async function newLink(overrides: Partial<Link> = {}): Promise<Link> {
  const now = new Date()
  const link: Link = {
    id: newLinkId(), tenantId: 't', status: 'pending', method: 'qr', phoneNumber: null, qr: null, pairingCode: null, account: null, error: null,
    metadata: {}, webhookUrl: null, createdAt: now.toISOString(), updatedAt: now.toISOString(), expiresAt: new Date(now.getTime() + 300_000).toISOString(),
    version: 1, leaseToken: 0, heartbeatAt: null, workerId: null, clientTokenHashes: [], ...overrides,
  }
  await store.create(link)
  return link
}

function session(linkId: string, env: Record<string, string> = {}) {
  const logs = new LogCapture()
  const logger = createLogger({ level: 'debug' }, logs)
  const sockets: FakeSocket[] = []
  const ctx: SessionContext & { requests: LogoutRequests } = {
    linkId,
    store,
    requests,
    openAuthState: async () => ({ state: createMemoryAuthState(), saveCreds: async () => undefined, clear: async () => undefined }),
    openSocket: async (_auth, _logger, handlers) => {
      const sock = new FakeSocket(handlers)
      sockets.push(sock)
      return sock
    },
    logger,
    settings: loadWorkerConfig({ LINK_ID: linkId, ...env }).settings,
    workerId: 'test-host',
    reachability: new Reachability(logger, undefined),
    waVersion: createWaVersionResolver({ pinned: [2, 3000, 1], logger }),
  }
  const s = new LinkSession(ctx)
  const run = async () => s.run(await store.claim(linkId, ['pending'], 'starting', { workerId: ctx.workerId }), false)
  return { s, sockets, logs, run }
}

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (ok(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('LinkSession faults', () => {
  it('a pairing-code request that fails is asked again (at the next heartbeat), and the code shows', async () => {
    const link = await newLink({ method: 'code', phoneNumber: '12345678901' })
    const { s, sockets, logs, run } = session(link.id, { WORKER_HEARTBEAT_MS: '100' })
    void run()
    const sock = await until('the socket', async () => sockets[0], Boolean)
    sock.failCodeRequests = 1
    sock.emit({ qr: 'qr-1' })
    const shown = await until('a pairing code', () => store.get(link.id), (l) => l?.pairingCode !== null)
    expect(shown).toMatchObject({ status: 'awaiting_code', pairingCode: { code: 'ABCD-1234' } })
    expect(sock.codeRequests).toBe(2)
    expect(logs.text).toContain('asking WhatsApp for a pairing code failed')
    await s.stop()
  })

  it('a final write that cannot be made still finishes the session: socket closed, outcome reported, nothing unhandled', async () => {
    const link = await newLink()
    const { sockets, logs, run } = session(link.id)
    const outcome = run()
    const sock = await until('the socket', async () => sockets[0], Boolean)
    sock.emit({ qr: 'qr-1' })
    await until('the QR', () => store.get(link.id), (l) => l?.status === 'awaiting_scan')
    store.failing = true
    try {
      sock.emit({ connection: 'close', lastDisconnect: { error: Object.assign(new Error('Connection Failure'), { output: { statusCode: 401 } }), date: new Date() } })
      expect(await outcome).toMatchObject({ status: 'awaiting_scan' })
    } finally {
      store.failing = false
    }
    expect(sock.ended).toBe(true)
    expect(logs.text).toContain('could not write how the link ended; the sweepers will settle it')
    // The stored link is still in progress: the sweepers (its heartbeat stops) settle it.
    expect((await store.get(link.id))!.status).toBe('awaiting_scan')
  })

  it('a stop before the session has started ends the link worker_stopped as soon as it runs', async () => {
    const link = await newLink()
    const { s, run } = session(link.id)
    void s.stop()
    const outcome = run()
    expect(await outcome).toMatchObject({ status: 'failed' })
    expect(await store.get(link.id)).toMatchObject({ status: 'failed', error: { code: 'worker_stopped' }, workerId: 'test-host' })
  })
})
