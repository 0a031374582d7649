// Shared types of the simulator's public API and its internals.
export interface KeyPair {
  public: Uint8Array
  private: Uint8Array
}

export interface SimOptions {
  /** WebSocket port; 0 (default) picks a free one. */
  port?: number
  host?: string
  /** QR refs sent per pair-device stanza (default 6, like WhatsApp). */
  refs?: number
  /** Delay before every server response (handshake, stanzas, iq results). */
  responseDelayMs?: number
  /**
   * The oldest WhatsApp Web version accepted: an older client (ClientPayload.userAgent.appVersion)
   * gets `<failure reason="405"/>` right after the handshake, as WhatsApp answers a stale version.
   */
  minVersion?: SimVersion
}

export type SimVersion = [number, number, number]

export interface SimDevice {
  /** Device jid, e.g. '15550001234:1@s.whatsapp.net'. */
  jid: string
  /** Device lid, e.g. '205550001234001:1@lid'. */
  lid?: string
  phoneNumber: string
  /** The phone account's display name (the simulated phone's owner). */
  name: string
  /** Primary phone platform sent in pair-success (`creds.platform` in Baileys), e.g. 'android'. */
  platform: string
  loggedOut: boolean
}

export interface PhoneProfile {
  phoneNumber?: string
  name?: string
  platform?: string
}

export type ConnectionKind = 'handshake' | 'registration' | 'login'

/** What the simulator knows about one client socket. */
export interface SimConnectionInfo {
  id: number
  kind: ConnectionKind
  /** Device jid (login connections). */
  jid?: string
  /** Refs sent in pair-device (registration connections). */
  refs: string[]
  open: boolean
  loggedIn: boolean
}

export interface CodeRequest {
  phoneNumber: string
  connectionId: number
}

export type SimEvent = 'connection' | 'close' | 'qr' | 'paired' | 'login' | 'code-request' | 'version-rejected' | 'passkey-request'
