import { z } from 'zod'
import { KEY_BYTES } from '../crypto/envelope.ts'
import { RESOURCE_NAMES } from '../runtime-config.ts'

/**
 * Each process (the API, the sweeper, `npm start`, the worker) parses its environment once, at
 * start, with one zod schema built from these fields, and refuses to start on a bad value with a
 * message naming the variable: `Invalid configuration: NAME: reason`.
 */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Env = Record<string, string | undefined>

export function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.output<S> {
  const result = schema.safeParse(env)
  if (result.success) return result.data
  throw new ConfigError(result.error.issues.map((issue) => `Invalid configuration: ${issue.path.join('.') || '(environment)'}: ${issue.message}`).join('\n'))
}

/** An unset variable and an empty one mean the same: use the default. */
const unsetIfEmpty = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value)

/** A whole number in [min, max]; unset stays unset. */
export function envOptionalInt({ min = 1, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {}) {
  const range = max === Number.MAX_SAFE_INTEGER ? `(at least ${min})` : `from ${min} to ${max}`
  return z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .trim()
      .regex(/^\d+$/, `must be a whole number ${range}`)
      .transform(Number)
      .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .optional(),
  )
}

/** A whole number in [min, max]; unset → `fallback`. */
export function envInt(fallback: number, range: { min?: number; max?: number } = {}) {
  return envOptionalInt(range).transform((value) => value ?? fallback)
}

export function envString() {
  return z.preprocess(unsetIfEmpty, z.string().optional())
}

/** A URL with one of the given schemes (`http`, `ws`, …). */
export function envUrl(schemes: string[]) {
  return z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine((value) => URL.canParse(value) && schemes.includes(new URL(value).protocol.slice(0, -1)), `must be a ${schemes.join(' or ')} URL`)
      .optional(),
  )
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export const envLogLevel = () => z.preprocess(unsetIfEmpty, z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'))

/** The variable a linked resource reaches a Fargate task in. */
const sstLink = <N extends string>(name: N) => `SST_RESOURCE_${name}` as const

/**
 * Where every process finds the table, the worker task and the key that wraps credentials: plain
 * variables locally, SST's links in AWS (resolveRuntimeConfig reads both from the parsed values).
 */
export const storeEnvShape = {
  TABLE_NAME: z.preprocess(unsetIfEmpty, z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name: 3-255 letters, digits, _ . -').optional()),
  AWS_REGION: envString(),
  AWS_DEFAULT_REGION: envString(),
  DYNAMODB_ENDPOINT: envUrl(['http', 'https']),
  KMS_KEY_ID: envString(),
  /** Another KMS endpoint (tests speak the KMS protocol to a local server). */
  KMS_ENDPOINT: envUrl(['http', 'https']),
  DATA_KEY: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      // Never echo the value: it is a secret.
      .refine((value) => Buffer.from(value.trim(), 'base64').length === KEY_BYTES, `must be the base64 encoding of exactly ${KEY_BYTES} bytes`)
      .optional(),
  ),
  DATA_KEY_FILE: envString(),
  /** How to start a worker task without SST (comma-separated lists; see runtime-config.ts). */
  ECS_CLUSTER: envString(),
  ECS_TASK_DEFINITION: envString(),
  ECS_SUBNETS: envString(),
  ECS_SECURITY_GROUPS: envString(),
  ECS_ASSIGN_PUBLIC_IP: envString(),
  ECS_CONTAINER_NAME: envString(),
  /** SST's links: JSON per linked resource in a task; an encrypted file (`SST_KEY_FILE`) in a Lambda. */
  SST_RESOURCE_App: envString(),
  [sstLink(RESOURCE_NAMES.table)]: envString(),
  [sstLink(RESOURCE_NAMES.task)]: envString(),
  [sstLink(RESOURCE_NAMES.key)]: envString(),
  SST_KEY: envString(),
  SST_KEY_FILE: envString(),
  LAMBDA_TASK_ROOT: envString(),
}

/** The store variables of a process's environment, parsed. */
export type StoreEnv = z.output<z.ZodObject<typeof storeEnvShape>>
