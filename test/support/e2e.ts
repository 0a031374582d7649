import { describe } from 'vitest'
import { DEFAULT_CONNECTION_CONFIG } from 'baileys'
import { LocalKeyProvider } from '@wa-link-broker/core/crypto'
import { createLogger } from '@wa-link-broker/core/logger'
import { LinkStore } from '@wa-link-broker/core/store'
import { toLinkView, type LinkView } from '@wa-link-broker/functions'
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../scripts/local-stack.ts'
import { PRELOAD_PATH, startControlServer, startSimulator, type SimOptions, type WaSimulator } from '../wa-sim/index.ts'
import { LogCapture } from './api.ts'
import { createTestTable } from './store.ts'

/** The local master key the API (this process) and every worker (its children) share. */
const DATA_KEY = Buffer.alloc(32, 0x5a)

export interface E2E {
  sim: WaSimulator
  stack: LocalStack
  store: LinkStore
  /** The key the stack wraps credentials with (the workers' DATA_KEY). */
  keys: LocalKeyProvider
  tableName: string
  doc: Awaited<ReturnType<typeof createTestTable>>['doc']
  logs: LogCapture
  /** Every QR value and pairing code the API ever showed, to prove none reached a log. */
  secretsSeen: Set<string>
  request(path: string, init?: RequestInit & { key?: string; json?: unknown }): Promise<Response>
  createLink(body?: Record<string, unknown>): Promise<{ id: string; clientToken: string; pageUrl: string }>
  read(id: string, key?: string): Promise<LinkView>
  waitFor(id: string, predicate: (link: LinkView) => boolean, options?: { timeoutMs?: number; key?: string }): Promise<LinkView>
  /** Warm hosts running (0: one worker process per link). */
  warm: number
  /** The pid of the worker process holding the link (its host, when warm). */
  workerPid(linkId: string): Promise<number | undefined>
  /** Until the worker logged `msg` for this link (its relayed log lines carry the link id). */
  waitForLog(linkId: string, msg: string, timeoutMs?: number): Promise<void>
  /** Starts a link and waits for its first QR, so its worker is up and holding a socket. */
  startAwaitingScan(body?: Record<string, unknown>): Promise<{ id: string; pid: number; view: LinkView }>
  /** Signals the link's worker and waits until the process is gone. */
  signalWorker(pid: number, signal: NodeJS.Signals): Promise<void>
  stop(): Promise<void>
}

/** The whole product on one machine: simulator, DynamoDB Local table, API, real worker processes. */
export interface E2EOptions {
  sim?: SimOptions
  qrTimeoutMs?: number
  workerEnv?: Record<string, string>
  /** Warm hosts (default 1); 0 = one worker process per link (WARM_WORKERS=0). */
  warm?: number
  /** Settle a worker's links when its process exits (default true); see LocalStackOptions. */
  settleStoppedWorkers?: boolean
  /** Serve the simulator's HTTP control, as `npm run sim` does, for /demo's simulator button. */
  simulatorControl?: boolean
  webhooks?: LocalStackOptions['webhooks']
  /** DynamoDB Local's endpoint; by default the test run's (vitest's global setup). */
  dynamodbEndpoint?: string
}

/** The worker modes every end-to-end suite runs in: warm hosts, and one process per link. */
export const WORKER_MODES = [
  { name: 'warm hosts', warm: 1 },
  { name: 'WARM_WORKERS=0', warm: 0 },
] as const

/** Runs `suite` once per worker mode, each in its own describe block. */
export function inEachWorkerMode(title: string, suite: (mode: (typeof WORKER_MODES)[number]) => void) {
  for (const mode of WORKER_MODES) describe(`${title} (${mode.name})`, () => suite(mode))
}

export async function startE2E(options: E2EOptions = {}): Promise<E2E> {
  const sim = await startSimulator(options.sim)
  // The simulator's HTTP control, as `npm run sim` serves it, for /demo's simulator button.
  const control = options.simulatorControl ? await startControlServer(sim) : undefined
  const { doc, tableName, endpoint } = await createTestTable('e2e', options.dynamodbEndpoint)
  const keys = new LocalKeyProvider(DATA_KEY)
  const logs = new LogCapture()
  const warm = options.warm ?? 1
  const stack = await startLocalStack({
    config: { tableName, region: 'us-east-1', dynamodbEndpoint: endpoint },
    keys,
    port: 0,
    warmWorkers: warm,
    limits: { createPerMinute: 1000, activeLinks: 1000 },
    settleStoppedWorkers: options.settleStoppedWorkers,
    logger: createLogger({ level: 'debug', name: 'api' }, logs),
    simulatorControlUrl: control?.url,
    webhooks: options.webhooks,
    workerEnv: {
      WA_WS_URL: sim.url,
      NODE_OPTIONS: `--import ${PRELOAD_PATH}`,
      LOG_LEVEL: 'debug',
      DATA_KEY: DATA_KEY.toString('base64'),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Hermetic: never ask web.whatsapp.com for the latest version (wa-readiness.test.ts does, locally).
      WA_VERSION: DEFAULT_CONNECTION_CONFIG.version.join('.'),
      ...(options.qrTimeoutMs ? { WA_QR_TIMEOUT_MS: String(options.qrTimeoutMs) } : {}),
      ...options.workerEnv,
    },
  })
  const store = new LinkStore(doc, tableName)
  const secretsSeen = new Set<string>()

  const request: E2E['request'] = (path, init = {}) => {
    const headers = new Headers(init.headers)
    headers.set('authorization', `Bearer ${init.key ?? stack.apiKey}`)
    let body = init.body
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json')
      body = JSON.stringify(init.json)
    }
    return fetch(`${stack.url}${path}`, { ...init, headers, body })
  }
  const read = async (id: string, key?: string) => {
    const res = await request(`/v1/links/${id}`, { key })
    if (res.status !== 200) throw new Error(`GET link → ${res.status} ${await res.text()}`)
    const view = (await res.json()) as LinkView
    if (view.qr) secretsSeen.add(view.qr.value)
    if (view.pairingCode) secretsSeen.add(view.pairingCode.code).add(view.pairingCode.code.replace('-', ''))
    return view
  }
  const e2e: E2E = {
    sim,
    warm,
    stack,
    store,
    keys,
    tableName,
    doc,
    logs,
    secretsSeen,
    request,
    read,
    async createLink(body = {}) {
      const res = await request('/v1/links', { method: 'POST', json: body })
      if (res.status !== 201) throw new Error(`POST /v1/links → ${res.status} ${await res.text()}`)
      const { link, clientToken, pageUrl } = await res.json()
      return { id: link.id, clientToken, pageUrl }
    },
    async waitFor(id, predicate, { timeoutMs = 15_000, key } = {}) {
      const deadline = Date.now() + timeoutMs
      let last: LinkView | undefined
      while (Date.now() < deadline) {
        last = await read(id, key)
        if (predicate(last)) return last
        await new Promise((r) => setTimeout(r, 50))
      }
      const stored = await store.get(id)
      throw new Error(`link ${id} never matched; last read ${JSON.stringify(last)}; stored ${JSON.stringify(stored && toLinkView(stored))}\n${logs.lines.slice(-30).join('\n')}`)
    },
    async workerPid(linkId) {
      const workerId = (await store.get(linkId))?.workerId
      return stack.launcher.processes().find((p) => p.hostId === workerId)?.pid
    },
    async waitForLog(linkId, msg, timeoutMs = 10_000) {
      const mine = () => logs.lines.filter((line) => line.includes(linkId))
      await waitUntil(() => mine().some((line) => line.includes(`"${msg}"`) && JSON.parse(line).linkId === linkId), timeoutMs, () => `"${msg}" for ${linkId}; its log:\n${mine().slice(-15).join('\n')}`)
    },
    async startAwaitingScan(body = {}) {
      const { id } = await e2e.createLink(body)
      const view = await e2e.waitFor(id, (l) => l.qr !== null)
      return { id, view, pid: (await e2e.workerPid(id))! }
    },
    async signalWorker(pid, signal) {
      process.kill(pid, signal)
      // A draining host may give a pairing session a few seconds.
      await waitUntil(() => !isAlive(pid), 15_000, `worker ${pid} to exit after ${signal}`)
    },
    async stop() {
      await stack.stop()
      await control?.close()
      await sim.close()
    },
  }
  return e2e
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what: string | (() => string) = 'condition') {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
