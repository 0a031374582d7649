/**
 * Every limit the service enforces, in one place. docs/api.md lists them; the API's configuration
 * schema reads the tunable ones from the environment with these defaults.
 */

/** Per tenant; `CREATE_LIMIT_PER_MINUTE` and `ACTIVE_LINK_LIMIT` override them. */
export interface TenantLimits {
  /** Links a tenant may start a minute (each may start a Fargate task). */
  createPerMinute: number
  /** Links of a tenant in progress (not yet linked or ended, deadline not passed) at once. */
  activeLinks: number
}

export const DEFAULT_TENANT_LIMITS: TenantLimits = { createPerMinute: 60, activeLinks: 100 }

/** A link's deadline (`ttlSeconds`) when it asks for none, and the shortest and longest it may ask for. */
export const DEFAULT_TTL_SECONDS = 300
export const MIN_TTL_SECONDS = 60
export const MAX_TTL_SECONDS = 3600

/**
 * Pairing-code requests (new code links and QR → code switches) per phone number, across every
 * tenant. WhatsApp throttles and flags numbers that receive many codes; this protects the number's
 * owner. Fixed by the contract, not tunable.
 */
export const PHONE_CODE_WINDOWS = [
  { windowSeconds: 60, limit: 3 },
  { windowSeconds: 3600, limit: 10 },
] as const

/**
 * Client tokens that open one link at once: the one handed out at creation, plus the latest
 * Idempotency-Key replays' (each replay hands out a new one; the oldest replay token is dropped).
 * Bounds the link item, which DynamoDB caps at 400 KB.
 */
export const MAX_CLIENT_TOKENS_PER_LINK = 10
