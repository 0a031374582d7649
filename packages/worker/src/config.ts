import { z } from 'zod'
import { envInt, envLogLevel, envOptionalInt, envUrl, parseEnv, resolveRuntimeConfig, storeEnvShape, unsetIfEmpty, type LOG_LEVELS, type ResolvedRuntimeConfig } from '@wa-link-broker/core/config'
import type { KeySource } from '@wa-link-broker/core/crypto'
import { WORKER_MODES, type WorkerMode } from '@wa-link-broker/core/launcher'
import { LINK_ID_PATTERN } from '@wa-link-broker/core/link'
import { parseWaVersion, type WaVersion } from './wa-version.ts'

/** Everything the worker reads from its environment, parsed once at start. */
export interface WorkerConfig {
  settings: WorkerSettings
  /** Where the table is (SST's links in AWS). */
  runtime: ResolvedRuntimeConfig
  /** What chooses the key that wraps credentials (selectKeyProvider). */
  keySource: KeySource
}

/** What the worker's host and its sessions run with. */
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
  /** `WA_VERSION`: the WhatsApp Web version to announce, instead of resolving the latest. */
  waVersion?: WaVersion
  /** `WA_VERSION_URL`: where the latest version is read instead of web.whatsapp.com/sw.js. */
  waVersionUrl?: string
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
  logLevel: (typeof LOG_LEVELS)[number]
  baileysLogLevel: string
  /** ECS's task metadata endpoint (set by ECS): where a task learns its own id. */
  ecsMetadataUri?: string
}

export const DEFAULT_HOST_SESSIONS = 50
/** A host started for a waiting link (overflow) stays warm this long after its last link. */
export const DEFAULT_IDLE_EXIT_MS = 5 * 60_000

const quotedModes = WORKER_MODES.map((mode) => `"${mode}"`)
/** `"link", "logout" or "host"` */
const MODE_CHOICES = `${quotedModes.slice(0, -1).join(', ')} or ${quotedModes.at(-1)}`

/** The worker's environment: one schema, parsed once at start. */
export const workerEnvSchema = z
  .object({
    WORKER_MODE: z.preprocess(unsetIfEmpty, z.enum(WORKER_MODES, { error: `must be ${MODE_CHOICES}` }).default('link')),
    LINK_ID: z.preprocess(unsetIfEmpty, z.string().regex(LINK_ID_PATTERN, 'must be a link id (lnk_…)').optional()),
    WORKER_HOST_ID: z.preprocess(unsetIfEmpty, z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be 1-100 letters, digits, . _ -').optional()),
    WORKER_MAX_SESSIONS: envInt(DEFAULT_HOST_SESSIONS, { min: 1, max: 1000 }),
    WORKER_IDLE_EXIT_MS: envOptionalInt({ min: 0 }),
    WA_WS_URL: envUrl(['ws', 'wss']),
    WA_QR_TIMEOUT_MS: envOptionalInt(),
    WA_VERSION: z.preprocess(unsetIfEmpty, z.string().transform((text, ctx) => parseWaVersion(text) ?? (ctx.addIssue({ code: 'custom', message: 'must look like 2.3000.1012345678' }), z.NEVER)).optional()),
    WA_VERSION_URL: envUrl(['http', 'https']),
    WORKER_HEARTBEAT_MS: envInt(3000),
    WORKER_POLL_MS: envInt(100),
    WORKER_SWEEP_MS: envInt(2000),
    WORKER_MAX_RECONNECTS: envInt(5),
    WORKER_LOGOUT_TIMEOUT_MS: envInt(30_000),
    WORKER_DRAIN_MS: envInt(90_000),
    WORKER_PAIRING_GRACE_MS: envInt(10_000),
    LOG_LEVEL: envLogLevel(),
    ECS_CONTAINER_METADATA_URI_V4: envUrl(['http', 'https']),
    BAILEYS_LOG_LEVEL: envLogLevel('warn'),
    ...storeEnvShape,
  })
  .superRefine((env, ctx) => {
    if (env.WORKER_MODE !== 'host' && !env.LINK_ID) ctx.addIssue({ code: 'custom', path: ['LINK_ID'], message: `is required when WORKER_MODE is "${env.WORKER_MODE}"` })
  })

/** Parses the worker's environment; throws `Invalid configuration: NAME: reason` for each bad variable. */
export function loadWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  const e = parseEnv(workerEnvSchema, env)
  const host = e.WORKER_MODE === 'host'
  const settings: WorkerSettings = {
    mode: e.WORKER_MODE,
    linkId: e.LINK_ID,
    hostId: e.WORKER_HOST_ID,
    maxSessions: host ? e.WORKER_MAX_SESSIONS : 1,
    // A host started for a waiting link is overflow: it goes once idle. The warm floor stays.
    idleExitMs: host ? (e.WORKER_IDLE_EXIT_MS ?? (e.LINK_ID ? DEFAULT_IDLE_EXIT_MS : 0)) : 0,
    waWebSocketUrl: e.WA_WS_URL,
    qrTimeoutMs: e.WA_QR_TIMEOUT_MS,
    waVersion: e.WA_VERSION,
    waVersionUrl: e.WA_VERSION_URL,
    heartbeatMs: e.WORKER_HEARTBEAT_MS,
    pollMs: e.WORKER_POLL_MS,
    sweepMs: e.WORKER_SWEEP_MS,
    maxReconnects: e.WORKER_MAX_RECONNECTS,
    logoutTimeoutMs: e.WORKER_LOGOUT_TIMEOUT_MS,
    drainMs: e.WORKER_DRAIN_MS,
    pairingGraceMs: e.WORKER_PAIRING_GRACE_MS,
    logLevel: e.LOG_LEVEL,
    baileysLogLevel: e.BAILEYS_LOG_LEVEL,
    ecsMetadataUri: e.ECS_CONTAINER_METADATA_URI_V4,
  }
  return { settings, runtime: resolveRuntimeConfig(e), keySource: e }
}
