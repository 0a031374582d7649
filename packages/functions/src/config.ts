import { z } from 'zod'
import { envInt, envLogLevel, parseEnv, resolveRuntimeConfig, storeEnvShape, type ResolvedRuntimeConfig } from '@wa-link-broker/core/config'
import type { KeySource } from '@wa-link-broker/core/crypto'
import { DEFAULT_TENANT_LIMITS, type TenantLimits } from '@wa-link-broker/core/link'

/**
 * `WARM_WORKERS`: warm worker hosts (0 = none: one worker task per link, as before hosts). The API
 * and the sweeper only need to know whether hosts are in use; how many run is the ECS service's size.
 */
const warmWorkersShape = { WARM_WORKERS: envInt(1, { min: 0 }) }

/** The API's environment (the Lambda, and the API inside `npm start`). */
export const apiEnvSchema = z.object({
  LOG_LEVEL: envLogLevel(),
  ...warmWorkersShape,
  CREATE_LIMIT_PER_MINUTE: envInt(DEFAULT_TENANT_LIMITS.createPerMinute),
  ACTIVE_LINK_LIMIT: envInt(DEFAULT_TENANT_LIMITS.activeLinks),
  ...storeEnvShape,
})

/** The scheduled sweeper's environment. */
export const sweeperEnvSchema = z.object({ LOG_LEVEL: envLogLevel(), ...warmWorkersShape, ...storeEnvShape })

export interface ApiConfig {
  runtime: ResolvedRuntimeConfig
  /** What chooses the key that wraps credentials and webhook secrets (selectKeyProvider). */
  keySource: KeySource
  logLevel: z.output<typeof apiEnvSchema>['LOG_LEVEL']
  limits: TenantLimits
  /** Dispatch to warm hosts (false: WARM_WORKERS=0). */
  warmWorkers: boolean
}

/** Parsed once at start; a bad value stops the process with `Invalid configuration: NAME: reason`. */
export function loadApiConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  const parsed = parseEnv(apiEnvSchema, env)
  return {
    runtime: resolveRuntimeConfig(parsed),
    keySource: parsed,
    logLevel: parsed.LOG_LEVEL,
    limits: { createPerMinute: parsed.CREATE_LIMIT_PER_MINUTE, activeLinks: parsed.ACTIVE_LINK_LIMIT },
    warmWorkers: parsed.WARM_WORKERS > 0,
  }
}

export function loadSweeperConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(sweeperEnvSchema, env)
  return { runtime: resolveRuntimeConfig(parsed), keySource: parsed, logLevel: parsed.LOG_LEVEL, warmWorkers: parsed.WARM_WORKERS > 0 }
}

/** The task-stopped Lambda's environment: the sweeper's (the store, a log level). */
export const loadTaskStoppedConfig = loadSweeperConfig

/** The webhook stream subscriber's and retry Cron's environment: the sweeper's (log level, the store). */
export const loadWebhookConfig = loadSweeperConfig
