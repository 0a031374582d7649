import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { ConflictError, DomainError, IdempotencyMismatchError, NotFoundError, RateLimitedError, ServiceUnavailableError, UnauthorizedError, ValidationError } from '@wa-link-broker/core/errors'
import type { Logger } from '@wa-link-broker/core/logger'
import type { ZodError } from 'zod'

export function errorBody(code: string, message: string, field?: string) {
  return { error: { code, message, ...(field ? { field } : {}) } }
}

export function errorResponse(c: Context, status: ContentfulStatusCode, code: string, message: string, field?: string) {
  return c.json(errorBody(code, message, field), status)
}

/** zod's first issue, as a 400 that names the field. */
export function validationFailed(c: Context, error: ZodError, target: string) {
  const issue = error.issues[0]
  if (issue?.code === 'unrecognized_keys') {
    return errorResponse(c, 400, 'invalid_input', `${issue.keys.join(', ')}: unknown field`, [...issue.path, issue.keys[0]].join('.'))
  }
  // A body that is not the right shape at all (an array, a string) names the body, not zod's "json".
  const field = issue?.path.length ? issue.path.join('.') : target === 'json' ? 'body' : target
  return errorResponse(c, 400, 'invalid_input', `${field}: ${issue?.message ?? 'is invalid'}`, field)
}

const STATUS_BY_ERROR: [new (...args: never[]) => DomainError, ContentfulStatusCode][] = [
  [ValidationError, 400],
  [UnauthorizedError, 401],
  [NotFoundError, 404],
  [IdempotencyMismatchError, 422],
  [ConflictError, 409],
  [RateLimitedError, 429],
  [ServiceUnavailableError, 503],
]

/** Domain errors become their HTTP status; anything else is a real fault: 500, logged, never detailed. */
export function handleError(logger: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof DomainError) {
      const status = STATUS_BY_ERROR.find(([type]) => err instanceof type)?.[1] ?? 400
      if (err instanceof RateLimitedError) c.header('Retry-After', String(err.retryAfterSeconds))
      return errorResponse(c, status, err.code, err.message, err instanceof ValidationError ? err.field : undefined)
    }
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode
      const code = status === 413 ? 'payload_too_large' : status === 400 ? 'invalid_input' : 'http_error'
      return errorResponse(c, status, code, err.message || 'Bad request.', status === 400 ? 'body' : undefined)
    }
    logger.error({ err, path: c.req.path }, 'unhandled error')
    return errorResponse(c, 500, 'internal', 'Something went wrong on our side.')
  }
}
