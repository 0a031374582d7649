import makeWASocket, { Browsers, makeCacheableSignalKeyStore, type AuthenticationState, type ConnectionState, type WASocket } from 'baileys'
import type { Logger } from '@wa-link-broker/core'
import type { WorkerSettings } from './config.ts'

export interface SocketHandlers {
  onConnectionUpdate(update: Partial<ConnectionState>): void
  onCredsUpdate(): void
}

/** One Baileys socket for the link, with only what a linking device needs switched on. */
export function openSocket(auth: AuthenticationState, settings: WorkerSettings, logger: Logger, handlers: SocketHandlers): WASocket {
  // Baileys logs frames at debug/trace: keep it at warn unless asked, so no QR ref can reach the logs.
  const baileysLogger = logger.child({ component: 'baileys' }, { level: process.env.BAILEYS_LOG_LEVEL ?? 'warn' })
  const sock = makeWASocket({
    auth: { creds: auth.creds, keys: makeCacheableSignalKeyStore(auth.keys, baileysLogger as never) },
    logger: baileysLogger as never,
    browser: Browsers.macOS('Desktop'),
    ...(settings.waWebSocketUrl ? { waWebSocketUrl: settings.waWebSocketUrl } : {}),
    ...(settings.qrTimeoutMs ? { qrTimeout: settings.qrTimeoutMs } : {}),
    // History sync is left at Baileys' defaults: the tenant's own socket receives it later.
    markOnlineOnConnect: false,
  })
  sock.ev.on('connection.update', handlers.onConnectionUpdate)
  sock.ev.on('creds.update', handlers.onCredsUpdate)
  return sock
}
