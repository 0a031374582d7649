import { z } from 'zod'
import {
  DEFAULT_TENANT_LIMITS,
  envInt,
  envLogLevel,
  parseEnv,
  resolveRuntimeConfig,
  storeEnvShape,
  type ResolvedRuntimeConfig,
  type TenantLimits,
} from '@wa-link-broker/core'

/** The API's environment (the Lambda, and the API inside `npm start`). */
export const apiEnvSchema = z.object({
  LOG_LEVEL: envLogLevel(),
  CREATE_LIMIT_PER_MINUTE: envInt(DEFAULT_TENANT_LIMITS.createPerMinute),
  ACTIVE_LINK_LIMIT: envInt(DEFAULT_TENANT_LIMITS.activeLinks),
  ...storeEnvShape,
})

/** The scheduled sweeper's environment. */
export const sweeperEnvSchema = z.object({ LOG_LEVEL: envLogLevel(), ...storeEnvShape })

export interface ApiConfig {
  runtime: ResolvedRuntimeConfig
  logLevel: z.output<typeof apiEnvSchema>['LOG_LEVEL']
  limits: TenantLimits
}

/** Parsed once at start; a bad value stops the process with `Invalid configuration: NAME: reason`. */
export function loadApiConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  const parsed = parseEnv(apiEnvSchema, env)
  return {
    runtime: resolveRuntimeConfig(env),
    logLevel: parsed.LOG_LEVEL,
    limits: { createPerMinute: parsed.CREATE_LIMIT_PER_MINUTE, activeLinks: parsed.ACTIVE_LINK_LIMIT },
  }
}

export function loadSweeperConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(sweeperEnvSchema, env)
  return { runtime: resolveRuntimeConfig(env), logLevel: parsed.LOG_LEVEL }
}

/** The task-stopped Lambda's environment: the sweeper's (the store, a log level). */
export const loadTaskStoppedConfig = loadSweeperConfig

/** The webhook stream subscriber's and retry Cron's environment: the sweeper's (log level, the store). */
export const loadWebhookConfig = loadSweeperConfig
