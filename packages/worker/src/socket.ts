import type { AuthenticationState, ConnectionState } from 'baileys'
import type { Logger } from '@wa-link-broker/core/logger'
import { baileysLogger } from './baileys-logger.ts'
import type { WorkerSettings } from './config.ts'
import { watchPasskeyGate, type PasskeyNotificationType } from './passkey.ts'
import type { WaVersion } from './wa-version.ts'

export interface SocketHandlers {
  onConnectionUpdate(update: Partial<ConnectionState>): void
  onCredsUpdate(): void
  /** WhatsApp asked this account for a passkey, which a companion cannot give (passkey.ts). */
  onPasskeyGate?(type: PasskeyNotificationType): void
}

/** What a session uses of a Baileys socket. */
export interface LinkSocket {
  requestPairingCode(phoneNumber: string): Promise<string>
  logout(): Promise<void>
  end(error: Error | undefined): void
}

/** Opens a socket for one session's auth state, announcing `version`; the session's logger tags its lines. */
export type SocketOpener = (auth: AuthenticationState, logger: Logger, handlers: SocketHandlers, version?: WaVersion) => Promise<LinkSocket>

/** Baileys sockets with only what a linking device needs switched on. */
export function baileysSockets(settings: Pick<WorkerSettings, 'waWebSocketUrl' | 'qrTimeoutMs' | 'baileysLogLevel'>): SocketOpener {
  return async (auth, logger, handlers, version) => {
    const { default: makeWASocket, Browsers, makeCacheableSignalKeyStore } = await loadBaileys()
    // Baileys logs frames at debug/trace: it stays at warn unless asked, so no QR ref can reach the logs.
    const log = baileysLogger(logger, settings.baileysLogLevel) as never
    const sock = makeWASocket({
      auth: { creds: auth.creds, keys: makeCacheableSignalKeyStore(auth.keys, log) },
      logger: log,
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
    const onPasskeyGate = handlers.onPasskeyGate
    if (onPasskeyGate) watchPasskeyGate(sock, onPasskeyGate)
    return sock
  }
}

/** Baileys is imported once per process, on first need (a host imports it at start). */
export const loadBaileys = () => import('baileys')
