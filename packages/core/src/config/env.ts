import { z } from 'zod'

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
export const unsetIfEmpty = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value)

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
/** A pino level; unset → `fallback`. */
export const envLogLevel = (fallback: (typeof LOG_LEVELS)[number] = 'info') =>
  z.preprocess(unsetIfEmpty, z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default(fallback))

