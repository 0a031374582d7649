import type { BinaryNode } from 'baileys'

/**
 * Since mid-2026 WhatsApp asks some accounts to confirm a new companion device with a passkey: right
 * after the scan (or the code entry) it sends a `<notification>` of one of these types instead of
 * completing the pairing. A companion client cannot answer it; Baileys acks and drops it and the
 * link would hang until its deadline. The session ends the link `failed/passkey_required` instead.
 */
export const PASSKEY_NOTIFICATION_TYPES = ['passkey_prologue_request', 'crsc_continuation'] as const

export type PasskeyNotificationType = (typeof PASSKEY_NOTIFICATION_TYPES)[number]

/** The part of a Baileys socket this needs: its frame emitter (`sock.ws`). */
export interface FrameSource {
  ws: {
    on(event: string, listener: (node: BinaryNode) => void): unknown
    off(event: string, listener: (node: BinaryNode) => void): unknown
  }
}

/** Calls `onGate` (once) when WhatsApp asks for a passkey on this socket; returns the unsubscribe. */
export function watchPasskeyGate(sock: FrameSource, onGate: (type: PasskeyNotificationType) => void): () => void {
  let fired = false
  const listeners = PASSKEY_NOTIFICATION_TYPES.map((type) => {
    const event = `CB:notification,type:${type}`
    const listener = () => {
      if (fired) return
      fired = true
      onGate(type)
    }
    sock.ws.on(event, listener)
    return () => sock.ws.off(event, listener)
  })
  return () => listeners.forEach((off) => off())
}
