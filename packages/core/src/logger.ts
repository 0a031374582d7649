import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino'

/**
 * Paths whose values are secrets wherever they appear in a log object. Redaction is the safety
 * net; the first rule is still not to log secrets at all.
 */
export const REDACTED_PATHS = [
  'qr', '*.qr', 'qr.value', '*.qr.value',
  'pairingCode', '*.pairingCode',
  'clientToken', '*.clientToken', 'token', '*.token', 'apiKey', '*.apiKey',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization', '*.headers.authorization',
  'creds', '*.creds', 'credentials', '*.credentials', 'dataKey', '*.dataKey', 'secret', '*.secret',
  // An error logged as `{ err }` keeps its own fields: a refused conditional write carries the item
  // it refused (`Item`), a StaleLinkError the link as it now is (`current`), QR and tokens included.
  'err.Item', 'err.current',
]

/** A process's logger; `level` is the one its configuration parsed (LOG_LEVEL), `info` when not given. */
export function createLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  return pino(
    {
      level: 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      ...options,
    },
    destination,
  )
}

export type { Logger }
