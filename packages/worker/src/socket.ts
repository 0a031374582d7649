import type { AuthenticationState, ConnectionState, WASocket } from 'baileys'
import type { Logger } from '@wa-link-broker/core'
import type { WorkerSettings } from './config.ts'
import type { WaVersion } from './wa-version.ts'

export interface SocketHandlers {
  onConnectionUpdate(update: Partial<ConnectionState>): void
  onCredsUpdate(): void
}

/** One Baileys socket for the link, with only what a linking device needs switched on. */
export async function openSocket(auth: AuthenticationState, settings: WorkerSettings, logger: Logger, handlers: SocketHandlers, version?: WaVersion): Promise<WASocket> {
  const { default: makeWASocket, Browsers, makeCacheableSignalKeyStore } = await loadBaileys()
  // Baileys logs frames at debug/trace: keep it at warn unless asked, so no QR ref can reach the logs.
  const baileysLogger = logger.child({ component: 'baileys' }, { level: process.env.BAILEYS_LOG_LEVEL ?? 'warn' })
  const sock = makeWASocket({
    auth: { creds: auth.creds, keys: makeCacheableSignalKeyStore(auth.keys, baileysLogger as never) },
    logger: baileysLogger as never,
    browser: Browsers.macOS('Desktop'),
    // The WhatsApp Web version to announce (wa-version.ts); Baileys' bundled one goes stale.
    ...(version ? { version } : {}),
    ...(settings.waWebSocketUrl ? { waWebSocketUrl: settings.waWebSocketUrl } : {}),
    ...(settings.qrTimeoutMs ? { qrTimeout: settings.qrTimeoutMs } : {}),
    // History sync is left at Baileys' defaults: the tenant's own socket receives it later.
    markOnlineOnConnect: false,
  })
  sock.ev.on('connection.update', handlers.onConnectionUpdate)
  sock.ev.on('creds.update', handlers.onCredsUpdate)
  return sock
}

/** Baileys is imported on first need so a worker's DynamoDB claim can run while it loads. */
export const loadBaileys = () => import('baileys')
