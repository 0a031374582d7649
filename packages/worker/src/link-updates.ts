import { handOverPatch } from '@wa-link-broker/core/hosts'
import { canTransition, IN_PROGRESS_STATUSES, linkEnding, type Link, type LinkAccount, type LinkError, type LinkPairingCode, type LinkQr, type LinkStatus } from '@wa-link-broker/core/link'
import type { LinkUpdate } from '@wa-link-broker/core/store'

/**
 * What each thing that happens on a Baileys socket does to the link, as a pure mapping from the
 * link as last written to the conditional update to write (null: nothing to write). The session
 * sends these through its fenced writer; the store and the state machine refuse anything else.
 */
export type WritePlan = Omit<LinkUpdate, 'fence'>

const FIRST_QR_MS = 60_000 // Baileys' rotation without qrTimeout: the first ref lives 60 s…
const LATER_QR_MS = 20_000 // …and each later one 20 s.

/** How long the `nth` QR of one socket is shown. */
export function qrLifetimeMs(nth: number, qrTimeoutMs?: number): number {
  return qrTimeoutMs ?? (nth === 1 ? FIRST_QR_MS : LATER_QR_MS)
}

/** A new QR: the first one moves the link to awaiting_scan; later ones replace it in place. */
export function qrIssued(link: Link, qr: LinkQr): WritePlan {
  return link.status === 'starting' ? { from: ['starting'], to: 'awaiting_scan', patch: { qr } } : { from: ['awaiting_scan', 'awaiting_code'], patch: { qr } }
}

/** Baileys' 8 characters, shown as `ABCD-1234`. */
export function formatPairingCode(raw: string): string {
  return `${raw.slice(0, 4)}-${raw.slice(4)}`
}

export function pairingCodeIssued(link: Link, pairingCode: LinkPairingCode): WritePlan {
  return link.status === 'awaiting_scan' ? { from: ['awaiting_scan'], to: 'awaiting_code', patch: { pairingCode } } : { from: ['awaiting_code'], patch: { pairingCode } }
}

/** The code belonged to a registration that is over (the socket dropped before the phone paired). */
export function pairingCodeWithdrawn(link: Link): WritePlan | null {
  return link.pairingCode ? { from: ['awaiting_code'], patch: { pairingCode: null } } : null
}

/** The phone scanned the QR or typed the code: no QR or code is shown any more. */
export function phoneAccepted(link: Link): WritePlan | null {
  return link.status === 'pairing' ? null : { from: ['awaiting_scan', 'awaiting_code'], to: 'pairing', patch: { qr: null, pairingCode: null } }
}

/** The socket opened as the new device: linked. No worker holds a linked link. */
export function linkedAs(account: LinkAccount): WritePlan {
  return { from: ['pairing'], to: 'linked', patch: { account, qr: null, pairingCode: null, error: null, workerId: null } }
}

/** The final write of a link that did not link. */
export function endedWith(to: LinkStatus, error: LinkError | null): WritePlan {
  return { from: IN_PROGRESS_STATUSES.filter((s) => canTransition(s, to)), to, patch: { qr: null, pairingCode: null, error } }
}

/** The lease renewal; it returns the link, so a cancel or a method switch is seen here at the latest. */
export function heartbeat(from: readonly LinkStatus[], now: Date): WritePlan {
  return { from, patch: { heartbeatAt: now.toISOString() } }
}

/** Letting go without ending, so another host takes the link over (a drain). */
export function handedOver(link: Link, now: Date): WritePlan {
  return { from: [link.status], patch: handOverPatch(link, now) }
}

/** The end of a logout: unlinked, with `logout_unconfirmed` when WhatsApp could not be told. */
export function unlinked(confirmed: boolean): WritePlan {
  return { from: ['linked'], to: 'unlinked', patch: { error: confirmed ? null : linkEnding('logout_unconfirmed'), workerId: null } }
}

/** The account as Baileys' creds describe it once the device is registered. */
export function accountOf(me: { id: string; name?: string; verifiedName?: string }, platform?: string): LinkAccount {
  return {
    jid: me.id,
    // `<user>[_<agent>][:<device>]@<server>`, as Baileys' jidDecode reads it.
    phoneNumber: me.id.split('@')[0].split(':')[0].split('_')[0],
    name: me.name && me.name !== '~' ? me.name : (me.verifiedName ?? null),
    platform: platform ?? null,
  }
}
