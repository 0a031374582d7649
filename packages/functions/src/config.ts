import { z } from 'zod'
import { envInt, envLogLevel, parseEnv, resolveRuntimeConfig, storeEnvShape, unsetIfEmpty, type ResolvedRuntimeConfig } from '@wa-link-broker/core/config'
import type { KeySource } from '@wa-link-broker/core/crypto'
import { DEFAULT_TENANT_LIMITS, type TenantLimits } from '@wa-link-broker/core/link'

/**
 * How links reach workers. `WARM_WORKERS`: warm worker hosts (0 = none); how many run is the ECS
 * service's size (or npm start's), the functions only need to know whether hosts are in use.
 * `OVERFLOW_HOSTS=1`: hosts without a warm floor: a link no host has room for starts one
 * (`WORKER_MODE=host`), which serves the next links too and exits after `WORKER_IDLE_EXIT_MS` idle.
 * Neither: one worker task per link, as before hosts (`WARM_WORKERS=0` behaves as it always did).
 */
const warmWorkersShape = { WARM_WORKERS: envInt(1, { min: 0 }), OVERFLOW_HOSTS: envInt(0, { min: 0, max: 1 }) }

/** The one decision: links go to hosts (warm ones, else one more), or each to a one-shot worker. */
export const dispatchesToHosts = (warmWorkers: number, overflowHosts: boolean): boolean => warmWorkers > 0 || overflowHosts
const hostsIn = (parsed: { WARM_WORKERS: number; OVERFLOW_HOSTS: number }) => dispatchesToHosts(parsed.WARM_WORKERS, parsed.OVERFLOW_HOSTS === 1)

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
  /** Dispatch to hosts (false: WARM_WORKERS=0 without OVERFLOW_HOSTS=1, one task per link). */
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
    warmWorkers: hostsIn(parsed),
  }
}

export function loadSweeperConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(sweeperEnvSchema, env)
  return { runtime: resolveRuntimeConfig(parsed), keySource: parsed, logLevel: parsed.LOG_LEVEL, warmWorkers: hostsIn(parsed) }
}

/** The task-stopped Lambda's environment: the sweeper's (the store, a log level). */
export const loadTaskStoppedConfig = loadSweeperConfig

/** The webhook delivery function's and retry Cron's environment: the sweeper's (log level, the store). */
export const loadWebhookConfig = loadSweeperConfig

/** A Lambda function's name or ARN, as Invoke takes it (a version or alias qualifier allowed). */
const LAMBDA_FUNCTION = /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$/

/**
 * The table's stream subscriber's environment: the store, and `WEBHOOK_DELIVER_FUNCTION`, the
 * function it hands the deliveries to (sst.config.ts sets it to the WebhookDeliver function's ARN).
 * It records events only: no key, no signing secrets.
 */
export const webhookStreamEnvSchema = z.object({
  LOG_LEVEL: envLogLevel(),
  ...storeEnvShape,
  WEBHOOK_DELIVER_FUNCTION: z.preprocess(
    unsetIfEmpty,
    z.string({ error: "must be the webhook delivery function's name or ARN" }).regex(LAMBDA_FUNCTION, "must be the webhook delivery function's name or ARN"),
  ),
})

export function loadWebhookStreamConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(webhookStreamEnvSchema, env)
  return { runtime: resolveRuntimeConfig(parsed), logLevel: parsed.LOG_LEVEL, deliverFunction: parsed.WEBHOOK_DELIVER_FUNCTION }
}
