// Baileys' DisconnectReason values, written out so this module does not load Baileys at start-up.
const DisconnectReason = { restartRequired: 515, loggedOut: 401, connectionReplaced: 440, timedOut: 408 } as const
/** `<failure reason="405"/>`: WhatsApp no longer accepts the client version the socket announced. */
const VERSION_REJECTED = 405

/** What a closed Baileys socket means for the link. */
export type CloseVerdict =
  /** WhatsApp's normal restart after pairing: reconnect with the same auth state. */
  | { kind: 'restart' }
  | { kind: 'logged_out' }
  | { kind: 'replaced' }
  | { kind: 'qr_exhausted' }
  | { kind: 'version_rejected' }
  /** The WebSocket never got through (refused, no such host, timed out): worth saying plainly once. */
  | { kind: 'unreachable'; reason: string }
  | { kind: 'retry'; reason: string }

export interface ClosedSocket {
  statusCode?: number
  message?: string
  /** The network error's code (ECONNREFUSED, ENOTFOUND, ETIMEDOUT, …) when the WebSocket itself failed. */
  networkCode?: string
}

export function closeReason(error: unknown): ClosedSocket {
  const boom = error as { output?: { statusCode?: number }; message?: string; data?: { code?: unknown } } | undefined
  const code = boom?.data?.code
  return { statusCode: boom?.output?.statusCode, message: boom?.message, networkCode: typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined }
}

export function judgeClose({ statusCode, message, networkCode }: ClosedSocket): CloseVerdict {
  switch (statusCode) {
    case DisconnectReason.restartRequired:
      return { kind: 'restart' }
    case DisconnectReason.loggedOut:
      return { kind: 'logged_out' }
    case DisconnectReason.connectionReplaced:
      return { kind: 'replaced' }
    case VERSION_REJECTED:
      return { kind: 'version_rejected' }
    case DisconnectReason.timedOut:
      // 408 is also connectionLost, and what Baileys reports for a WebSocket that could not connect:
      // only the message and the network error tell them apart.
      if (message === 'QR refs attempts ended') return { kind: 'qr_exhausted' }
      if (networkCode) return { kind: 'unreachable', reason: message?.replace(/^WebSocket Error \((.*)\)$/, '$1') ?? networkCode }
  }
  return { kind: 'retry', reason: `${statusCode ?? 'no status'}: ${message ?? 'connection closed'}` }
}
