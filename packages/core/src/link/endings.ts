import type { LinkStatus } from './status.ts'

/**
 * Every way a link can end other than `linked`: the one home of each `error.code`, the status it
 * leaves the link in, the message the API returns, and the plain words the hosted page and the SDK
 * show a person. The worker, the sweeper, the service and the logout all build their errors here;
 * `docs/api.md` lists this table (a test keeps the two in step).
 */
export interface LinkEnding {
  status: Extract<LinkStatus, 'expired' | 'failed' | 'cancelled' | 'unlinked'>
  /** For the developer reading the API response. */
  message: string
  /** For the person in front of the hosted page or the app: what happened and what to do. */
  userMessage: string
}

export const LINK_ENDINGS = {
  deadline: {
    status: 'expired',
    message: 'The link was not completed before its deadline.',
    userMessage: 'This link expired before it was completed. Start a new one to try again.',
  },
  qr_exhausted: {
    status: 'expired',
    message: 'No QR was scanned before WhatsApp stopped issuing new ones.',
    userMessage: 'No QR code was scanned in time. Start a new link to get a fresh code.',
  },
  cancelled: {
    status: 'cancelled',
    message: 'Cancelled by the API client.',
    userMessage: 'This link was cancelled.',
  },
  logged_out: {
    status: 'failed',
    message: 'WhatsApp logged the device out.',
    userMessage: 'WhatsApp removed this device while it was being linked. Start a new link and try again.',
  },
  replaced: {
    status: 'failed',
    message: 'Another connection replaced this one.',
    userMessage: 'Another connection took over while linking. Start a new link and try again.',
  },
  passkey_required: {
    status: 'failed',
    message: 'WhatsApp asked to confirm the new device with a passkey, which a companion client cannot do.',
    userMessage:
      'WhatsApp wants this account to confirm new devices with a passkey, which this link cannot do. Link WhatsApp Web once in a computer browser (web.whatsapp.com), then try again, or try the other linking method later.',
  },
  version_rejected: {
    status: 'failed',
    message: 'WhatsApp refused the client version, even after the worker refreshed it.',
    userMessage: 'WhatsApp refused the connection for now. Please try again later.',
  },
  connection_lost: {
    status: 'failed',
    message: 'The WhatsApp connection dropped more times in a row than the worker retries.',
    userMessage: 'The connection to WhatsApp kept dropping. Check back in a moment and start a new link.',
  },
  worker_lost: {
    status: 'failed',
    message: 'The worker stopped responding.',
    userMessage: 'The linking service was interrupted. Start a new link and try again.',
  },
  worker_stopped: {
    status: 'failed',
    message: 'The worker was stopped before the link completed.',
    userMessage: 'The linking service was restarted. Start a new link and try again.',
  },
  worker_crashed: {
    status: 'failed',
    message: 'The worker hit an unexpected error.',
    userMessage: 'Something went wrong on our side. Start a new link and try again.',
  },
  launch_failed: {
    status: 'failed',
    message: 'No worker could be started for the link.',
    userMessage: 'The linking service is busy. Please try again in a minute.',
  },
  logout_unconfirmed: {
    status: 'unlinked',
    message: 'Credentials erased, but WhatsApp could not be reached to log the device out; remove it from the phone.',
    userMessage: 'Unlinked here, but WhatsApp could not be told. Remove the device in WhatsApp → Settings → Linked devices.',
  },
} as const satisfies Record<string, LinkEnding>

export type LinkEndingCode = keyof typeof LINK_ENDINGS
export const LINK_ENDING_CODES = Object.keys(LINK_ENDINGS) as [LinkEndingCode, ...LinkEndingCode[]]

/** What a link carries once it ended (or, for `logout_unconfirmed`, once it was unlinked uncleanly). */
export interface LinkError {
  code: LinkEndingCode
  message: string
}

/** The error a link ends with; `detail` (no secrets) is appended to the standard message. */
export function linkEnding(code: LinkEndingCode, detail?: string): LinkError {
  const { message } = LINK_ENDINGS[code]
  return { code, message: detail ? `${message} ${detail}` : message }
}

/** The status a link ending with `code` is left in. */
export function endingStatus(code: LinkEndingCode): LinkEnding['status'] {
  return LINK_ENDINGS[code].status
}

export function isLinkEndingCode(value: unknown): value is LinkEndingCode {
  return typeof value === 'string' && Object.hasOwn(LINK_ENDINGS, value)
}
