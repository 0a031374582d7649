import type { WorkerMode } from '@wa-link-broker/core'
import { parseWaVersion, type WaVersion } from './wa-version.ts'

export interface WorkerSettings {
  linkId: string
  mode: WorkerMode
  /** WhatsApp's WebSocket; unset = Baileys' own default (the real service). */
  waWebSocketUrl?: string
  /** Passed to Baileys `qrTimeout`; unset = Baileys' default rotation (60 s, then 20 s). */
  qrTimeoutMs?: number
  heartbeatMs: number
  watchMs: number
  maxReconnects: number
  logoutTimeoutMs: number
  /** `WA_VERSION`: the WhatsApp Web version to announce, instead of resolving the latest. */
  waVersion?: WaVersion
  /** `WA_VERSION_URL`: where the latest version is read instead of web.whatsapp.com/sw.js. */
  waVersionUrl?: string
}

export function settingsFromEnv(env: NodeJS.ProcessEnv): WorkerSettings {
  const linkId = env.LINK_ID
  if (!linkId) throw new Error('LINK_ID is required: the worker runs one link per process.')
  const mode = env.WORKER_MODE ?? 'link'
  if (mode !== 'link' && mode !== 'logout') throw new Error(`WORKER_MODE must be "link" or "logout", not "${mode}"`)
  const positive = (name: string, fallback?: number) => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    const value = Number(raw)
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of milliseconds`)
    return value
  }
  const waVersion = env.WA_VERSION ? parseWaVersion(env.WA_VERSION) : undefined
  if (waVersion === null) throw new Error('Invalid configuration: WA_VERSION: must look like 2.3000.1012345678')
  if (env.WA_VERSION_URL && !/^https?:\/\/\S+$/.test(env.WA_VERSION_URL)) throw new Error('Invalid configuration: WA_VERSION_URL: must be an http or https URL')
  return {
    linkId,
    mode,
    waWebSocketUrl: env.WA_WS_URL || undefined,
    qrTimeoutMs: positive('WA_QR_TIMEOUT_MS'),
    heartbeatMs: positive('WORKER_HEARTBEAT_MS', 5000)!,
    watchMs: positive('WORKER_WATCH_MS', 1000)!,
    maxReconnects: positive('WORKER_MAX_RECONNECTS', 5)!,
    logoutTimeoutMs: positive('WORKER_LOGOUT_TIMEOUT_MS', 30_000)!,
    waVersion,
    waVersionUrl: env.WA_VERSION_URL || undefined,
  }
}
