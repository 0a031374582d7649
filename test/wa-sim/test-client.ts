// Test helper: a plain Baileys socket pointed at the simulator, with awaitable connection
// updates. It reconnects nothing by itself; tests decide what a close means.
import makeWASocket, { type AuthenticationState, type ConnectionState, type UserFacingSocketConfig } from 'baileys'
import pino from 'pino'
import { createMemoryAuthState } from './memory-auth.ts'
import type { WaSimulator } from './server.ts'

export interface ClosedReason {
  statusCode?: number
  message?: string
}

export interface TestClient {
  sock: ReturnType<typeof makeWASocket>
  auth: AuthenticationState
  updates: Partial<ConnectionState>[]
  /** Resolves with the first update (past or future) matching the predicate. */
  waitFor(predicate: (update: Partial<ConnectionState>) => boolean, timeoutMs?: number): Promise<Partial<ConnectionState>>
  nextQr(timeoutMs?: number): Promise<string>
  waitForOpen(timeoutMs?: number): Promise<void>
  waitForClose(timeoutMs?: number): Promise<ClosedReason>
  end(): void
}

export function connectClient(
  sim: WaSimulator,
  auth: AuthenticationState = createMemoryAuthState(),
  config: Partial<UserFacingSocketConfig> = {},
): TestClient {
  const sock = makeWASocket({ waWebSocketUrl: sim.url, auth, logger: pino({ level: 'silent' }), ...config })
  // Baileys mutates creds itself but also emits partial updates apps are expected to persist.
  sock.ev.on('creds.update', update => Object.assign(auth.creds, update))
  const updates: Partial<ConnectionState>[] = []
  const listeners = new Set<(update: Partial<ConnectionState>) => void>()
  sock.ev.on('connection.update', update => {
    updates.push(update)
    for (const listener of [...listeners]) listener(update)
  })
  let seenQrs = 0

  const waitFor: TestClient['waitFor'] = (predicate, timeoutMs = 10_000) => {
    const past = updates.find(predicate)
    if (past) return Promise.resolve(past)
    return new Promise((resolve, reject) => {
      const listener = (update: Partial<ConnectionState>) => {
        if (!predicate(update)) return
        listeners.delete(listener)
        clearTimeout(timer)
        resolve(update)
      }
      const timer = setTimeout(() => {
        listeners.delete(listener)
        reject(new Error(`no matching connection.update within ${timeoutMs} ms; got ${JSON.stringify(updates.map(summarize))}`))
      }, timeoutMs)
      listeners.add(listener)
    })
  }

  return {
    sock,
    auth,
    updates,
    waitFor,
    async nextQr(timeoutMs) {
      const index = seenQrs++
      const qrs = () => updates.filter(u => u.qr)
      await waitFor(() => qrs().length > index, timeoutMs)
      return qrs()[index]!.qr!
    },
    async waitForOpen(timeoutMs) {
      await waitFor(u => u.connection === 'open', timeoutMs)
    },
    async waitForClose(timeoutMs) {
      const update = await waitFor(u => u.connection === 'close', timeoutMs)
      const error = update.lastDisconnect?.error as { output?: { statusCode?: number }; message?: string } | undefined
      return { statusCode: error?.output?.statusCode, message: error?.message }
    },
    end() {
      sock.end(undefined)
    },
  }
}

function summarize(update: Partial<ConnectionState>) {
  return { ...update, qr: update.qr ? '<qr>' : undefined, lastDisconnect: update.lastDisconnect?.error?.message }
}

/** QR flow end to end: scan, expect the 515 restart, reconnect with the same auth state, open. */
export async function pairByQr(sim: WaSimulator, phoneNumber?: string): Promise<{ client: TestClient; jid: string }> {
  const first = connectClient(sim)
  const device = await sim.scan(await first.nextQr(), { phoneNumber })
  const closed = await first.waitForClose()
  if (closed.statusCode !== 515) throw new Error(`expected 515 after pairing, got ${closed.statusCode}`)
  const client = connectClient(sim, first.auth)
  await client.waitForOpen()
  return { client, jid: device.jid }
}
