/**
 * Every error the API answers is `{"error":{"code","message","field?"}}` with its HTTP status. The
 * client throws it as a `LinkBrokerError`, or the subclass for its status, so callers can branch on
 * `instanceof`, on `status` or on `code`.
 */
export class LinkBrokerError extends Error {
  override name = 'LinkBrokerError'
  constructor(
    /** HTTP status. */
    readonly status: number,
    /** The API's snake_case code: `invalid_input`, `not_found`, `rate_limited`, `wrong_state`, … */
    readonly code: string,
    message: string,
    /** For a 400: the request field at fault (`phoneNumber`, `metadata.x`, …). */
    readonly field?: string,
  ) {
    super(message)
  }
}

/** 400: the request was invalid; `field` names what to fix. */
export class ValidationError extends LinkBrokerError {
  override name = 'ValidationError'
}
/** 401: no credential, a wrong one, or a client token on a tenant-only call. */
export class UnauthorizedError extends LinkBrokerError {
  override name = 'UnauthorizedError'
}
/** 404: no such link, or one this credential may not see (never a 403). */
export class NotFoundError extends LinkBrokerError {
  override name = 'NotFoundError'
}
/** 409: the link is not in a state that allows this (`wrong_state`, `link_final`, `not_linked`, `no_qr`, …). */
export class ConflictError extends LinkBrokerError {
  override name = 'ConflictError'
}
/** 429: slow down; try again after `retryAfter` seconds. */
export class RateLimitedError extends LinkBrokerError {
  override name = 'RateLimitedError'
  constructor(
    status: number,
    code: string,
    message: string,
    field: string | undefined,
    /** Seconds to wait, from `Retry-After`. */
    readonly retryAfter: number,
  ) {
    super(status, code, message, field)
  }
}

const BY_STATUS: Record<number, typeof LinkBrokerError> = { 400: ValidationError, 401: UnauthorizedError, 404: NotFoundError, 409: ConflictError }

/** Seconds from a `Retry-After` header (delta-seconds or an HTTP date); 1 when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number {
  if (!header) return 1
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds)
  const date = Date.parse(header)
  return Number.isNaN(date) ? 1 : Math.max(0, Math.ceil((date - now) / 1000))
}

/** The typed error for a non-2xx response. */
export async function errorFromResponse(res: Response): Promise<LinkBrokerError> {
  let body: { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined
  try {
    body = (await res.json()) as typeof body
  } catch {
    body = undefined
  }
  const code = typeof body?.error?.code === 'string' ? body.error.code : `http_${res.status}`
  const message = typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${res.status}`
  const field = typeof body?.error?.field === 'string' ? body.error.field : undefined
  if (res.status === 429) return new RateLimitedError(res.status, code, message, field, retryAfterSeconds(res.headers.get('retry-after')))
  const Type = BY_STATUS[res.status] ?? LinkBrokerError
  return new Type(res.status, code, message, field)
}
