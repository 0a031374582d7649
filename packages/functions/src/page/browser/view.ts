import { endingMessage, type Link } from '@wa-link-broker/client'

/**
 * What the hosted page shows for a link: a pure function of what the API answered, so every state
 * is unit-tested without a browser. The words for an ended link come from the one table of endings
 * (core's endings.ts, through the client package); the page's own words are here.
 */
export type Screen =
  | { kind: 'loading' }
  | { kind: 'no_access'; title: string; message: string }
  | { kind: 'preparing'; title: string; message: string }
  | { kind: 'qr'; title: string; steps: string[]; qr: NonNullable<Link['qr']> }
  | { kind: 'code'; title: string; steps: string[]; code: string; expiresAt: string; qr: Link['qr'] }
  | { kind: 'pairing'; title: string; message: string }
  | { kind: 'linked'; title: string; account: { name: string | null; phone: string }; message: string }
  | { kind: 'ended'; status: Link['status']; title: string; message: string }

export const NO_ACCESS: Screen = {
  kind: 'no_access',
  title: 'This link can’t be opened',
  message: 'The address is incomplete or the link no longer exists. Ask whoever sent it for a new link.',
}

const OPEN_LINKED_DEVICES = 'Tap Menu ⋮ (Android) or Settings (iPhone), then Linked devices.'

export const QR_STEPS = ['Open WhatsApp on your phone.', OPEN_LINKED_DEVICES, 'Tap Link a device and point your phone at this screen.']

export function codeSteps(phoneNumber: string | null): string[] {
  return [
    phoneNumber ? `Open WhatsApp on the phone with the number ${formatPhone(phoneNumber)}.` : 'Open WhatsApp on your phone.',
    OPEN_LINKED_DEVICES,
    'Tap Link a device, then Link with phone number instead, and enter this code.',
  ]
}

const ENDED_TITLES: Partial<Record<Link['status'], string>> = {
  expired: 'This link expired',
  failed: 'Linking didn’t work',
  cancelled: 'This link was cancelled',
  unlinked: 'WhatsApp was unlinked',
}

/** The API stores E.164 digits without `+`. */
export function formatPhone(digits: string): string {
  return `+${digits}`
}

function live<T extends { expiresAt: string } | null>(value: T, now: number): T | null {
  return value && Date.parse(value.expiresAt) > now ? value : null
}

/** The screen for `link` at `now`, on the API's clock (`WaLinkClient.now()`), not the device's. */
export function screenFor(link: Link, now: number): Screen {
  switch (link.status) {
    case 'pending':
    case 'starting':
      return { kind: 'preparing', title: 'Link WhatsApp', message: 'Getting a code from WhatsApp…' }
    case 'awaiting_scan': {
      const qr = live(link.qr, now)
      return qr
        ? { kind: 'qr', title: 'Scan with WhatsApp', steps: QR_STEPS, qr }
        : { kind: 'preparing', title: 'Scan with WhatsApp', message: 'Getting a new code from WhatsApp…' }
    }
    case 'awaiting_code': {
      const code = live(link.pairingCode, now)
      return code
        ? { kind: 'code', title: 'Enter this code in WhatsApp', steps: codeSteps(link.phoneNumber), code: code.code, expiresAt: code.expiresAt, qr: live(link.qr, now) }
        : { kind: 'preparing', title: 'Enter a code in WhatsApp', message: 'Getting a new code from WhatsApp…' }
    }
    case 'pairing':
      return { kind: 'pairing', title: 'Linking…', message: 'Keep WhatsApp open on your phone for a moment.' }
    case 'linked':
      return {
        kind: 'linked',
        title: 'WhatsApp linked',
        account: { name: link.account?.name ?? null, phone: link.account ? formatPhone(link.account.phoneNumber) : '' },
        message: 'All done. You can close this page.',
      }
    default:
      return {
        kind: 'ended',
        status: link.status,
        title: ENDED_TITLES[link.status] ?? 'This link has ended',
        message: endingMessage(link.error) ?? (link.status === 'unlinked' ? 'This device was unlinked from WhatsApp.' : 'This link has ended.'),
      }
  }
}

/** "0:42" until `expiresAt`; never negative. */
export function timeLeft(expiresAt: string, now: number): string {
  const seconds = Math.max(0, Math.ceil((Date.parse(expiresAt) - now) / 1000))
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`
}
