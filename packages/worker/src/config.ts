import { z } from 'zod'
import { LINK_ID_PATTERN, type WorkerMode } from '@wa-link-broker/core'

/** Everything the worker reads from its environment, parsed once at start (the store's own config aside). */
export interface WorkerSettings {
  mode: WorkerMode
  /** The link to run (`link`/`logout`), or the first one a host takes. */
  linkId?: string
  /** Set by the local launcher; unset in ECS (the task id is used) and when run by hand. */
  hostId?: string
  /** Links run at once: `WORKER_MAX_SESSIONS` for a host, 1 for the one-shot modes. */
  maxSessions: number
  /** A host with nothing to do for this long exits; 0 = never (the warm floor). */
  idleExitMs: number
  /** WhatsApp's WebSocket; unset = Baileys' own default (the real service). */
  waWebSocketUrl?: string
  /** Passed to Baileys `qrTimeout`; unset = Baileys' default rotation (60 s, then 20 s). */
  qrTimeoutMs?: number
  /** How often each session renews its lease (and learns of changes it was not poked about). */
  heartbeatMs: number
  /** How often the host reads its own item for new links and pokes. */
  pollMs: number
  /** How often a host sweeps for links whose worker died (and takes them over if it has room). */
  sweepMs: number
  maxReconnects: number
  logoutTimeoutMs: number
  /** SIGTERM: the whole drain must fit ECS's stop timeout (120 s). */
  drainMs: number
  /** SIGTERM: how long a session whose phone is already pairing may take to finish. */
  pairingGraceMs: number
  baileysLogLevel: string
}

export const DEFAULT_HOST_SESSIONS = 50
/** A host started for a waiting link (overflow) stays warm this long after its last link. */
export const DEFAULT_IDLE_EXIT_MS = 5 * 60_000

const unsetIfEmpty = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value)
const whole = (what: string, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^\d+$/, `must be a whole number of ${what}`)
      .transform(Number)
      .pipe(z.number().int().positive(`must be a positive number of ${what}`).max(max, `must be at most ${max}`))
      .optional(),
  )
const ms = whole('milliseconds')

const schema = z
  .object({
    WORKER_MODE: z.preprocess(unsetIfEmpty, z.enum(['link', 'logout', 'host'], { error: 'must be "link", "logout" or "host"' }).default('link')),
    LINK_ID: z.preprocess(unsetIfEmpty, z.string().regex(LINK_ID_PATTERN, 'must be a link id (lnk_…)').optional()),
    WORKER_HOST_ID: z.preprocess(unsetIfEmpty, z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be 1-100 letters, digits, . _ -').optional()),
    WORKER_MAX_SESSIONS: whole('sessions', 1000),
    WORKER_IDLE_EXIT_MS: z.preprocess(unsetIfEmpty, z.string().regex(/^\d+$/, 'must be a whole number of milliseconds (0 = never)').transform(Number).optional()),
    WA_WS_URL: z.preprocess(unsetIfEmpty, z.string().regex(/^wss?:\/\/\S+$/, 'must be a ws:// or wss:// URL').optional()),
    WA_QR_TIMEOUT_MS: ms,
    WORKER_HEARTBEAT_MS: ms,
    WORKER_POLL_MS: ms,
    WORKER_SWEEP_MS: ms,
    WORKER_MAX_RECONNECTS: whole('attempts'),
    WORKER_LOGOUT_TIMEOUT_MS: ms,
    WORKER_DRAIN_MS: ms,
    WORKER_PAIRING_GRACE_MS: ms,
    BAILEYS_LOG_LEVEL: z.preprocess(unsetIfEmpty, z.enum(['silent', 'trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('warn')),
  })
  .superRefine((env, ctx) => {
    if (env.WORKER_MODE !== 'host' && !env.LINK_ID) ctx.addIssue({ code: 'custom', path: ['LINK_ID'], message: `is required when WORKER_MODE is "${env.WORKER_MODE}"` })
  })

export class ConfigurationError extends Error {
  override name = 'ConfigurationError'
}

/** Parses the worker's environment; throws `Invalid configuration: NAME: reason` for the first bad variable. */
export function parseWorkerSettings(env: Record<string, string | undefined>): WorkerSettings {
  const parsed = schema.safeParse(env)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ConfigurationError(`Invalid configuration: ${String(issue.path[0] ?? 'environment')}: ${issue.message}`)
  }
  const e = parsed.data
  const host = e.WORKER_MODE === 'host'
  return {
    mode: e.WORKER_MODE,
    linkId: e.LINK_ID,
    hostId: e.WORKER_HOST_ID,
    maxSessions: host ? (e.WORKER_MAX_SESSIONS ?? DEFAULT_HOST_SESSIONS) : 1,
    // A host started for a waiting link is overflow: it goes once idle. The warm floor stays.
    idleExitMs: host ? (e.WORKER_IDLE_EXIT_MS ?? (e.LINK_ID ? DEFAULT_IDLE_EXIT_MS : 0)) : 0,
    waWebSocketUrl: e.WA_WS_URL,
    qrTimeoutMs: e.WA_QR_TIMEOUT_MS,
    heartbeatMs: e.WORKER_HEARTBEAT_MS ?? 3000,
    pollMs: e.WORKER_POLL_MS ?? 100,
    sweepMs: e.WORKER_SWEEP_MS ?? 2000,
    maxReconnects: e.WORKER_MAX_RECONNECTS ?? 5,
    logoutTimeoutMs: e.WORKER_LOGOUT_TIMEOUT_MS ?? 30_000,
    drainMs: e.WORKER_DRAIN_MS ?? 90_000,
    pairingGraceMs: e.WORKER_PAIRING_GRACE_MS ?? 10_000,
    baileysLogLevel: e.BAILEYS_LOG_LEVEL,
  }
}
