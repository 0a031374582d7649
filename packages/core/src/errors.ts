/** Domain errors carry a stable snake_case code; the HTTP edge maps each kind to a status. */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = new.target.name
  }
}

export class ValidationError extends DomainError {
  constructor(
    readonly field: string,
    message: string,
    code = 'invalid_input',
  ) {
    super(code, `${field}: ${message}`)
  }
}

export class NotFoundError extends DomainError {
  constructor(message = 'No such link.') {
    super('not_found', message)
  }
}

/** The resource is not in a state that allows the request. */
export class ConflictError extends DomainError {}

export class UnauthorizedError extends DomainError {
  constructor(message = 'Missing or invalid credentials.') {
    super('unauthorized', message)
  }
}

/** A 429 with Retry-After; `code` tells one limit from another where a client may act on which. */
export class RateLimitedError extends DomainError {
  constructor(
    readonly retryAfterSeconds: number,
    what = 'Too many requests',
    code = 'rate_limited',
  ) {
    super(code, `${what}; retry after ${retryAfterSeconds} s.`)
  }
}

export class IdempotencyMismatchError extends DomainError {
  constructor() {
    super('idempotency_mismatch', 'This Idempotency-Key was used with a different request body.')
  }
}

/** A dependency (a launcher, AWS) failed; the request may succeed if retried. */
export class ServiceUnavailableError extends DomainError {}
