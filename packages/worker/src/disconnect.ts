// Baileys' DisconnectReason values, written out so this module does not load Baileys at start-up.
const DisconnectReason = { restartRequired: 515, loggedOut: 401, connectionReplaced: 440, timedOut: 408 } as const
/** `<failure reason="405"/>`: WhatsApp no longer accepts the client version the socket announced. */
const VERSION_REJECTED = 405

/** What a closed Baileys socket means for the link. */
export type CloseVerdict =
  | { kind: 'restart' }
  | { kind: 'logged_out' }
  | { kind: 'replaced' }
  | { kind: 'qr_exhausted' }
  | { kind: 'version_rejected' }
  | { kind: 'retry'; reason: string }

export interface ClosedSocket {
  statusCode?: number
  message?: string
}

export function closeReason(error: unknown): ClosedSocket {
  const boom = error as { output?: { statusCode?: number }; message?: string } | undefined
  return { statusCode: boom?.output?.statusCode, message: boom?.message }
}

export function judgeClose({ statusCode, message }: ClosedSocket): CloseVerdict {
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
      // 408 is also connectionLost: only Baileys' message tells the two apart.
      if (message === 'QR refs attempts ended') return { kind: 'qr_exhausted' }
  }
  return { kind: 'retry', reason: `${statusCode ?? 'no status'}: ${message ?? 'connection closed'}` }
}
