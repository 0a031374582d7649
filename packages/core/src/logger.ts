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
]

export function createLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  return pino(
    {
      level: process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      ...options,
    },
    destination,
  )
}

export type { Logger }
