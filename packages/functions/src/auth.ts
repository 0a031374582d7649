import type { MiddlewareHandler } from 'hono'
import { API_KEY_PREFIX, ApiKeyVerifier, CLIENT_TOKEN_PREFIX } from '@wa-link-broker/core/auth'
import { UnauthorizedError } from '@wa-link-broker/core/errors'
import type { Principal } from '@wa-link-broker/core/link/service'

export type AuthEnv = { Variables: { principal: Principal } }

function bearer(header: string | undefined): string | null {
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header ?? '')
  return match ? match[1] : null
}

/**
 * Authenticates `Authorization: Bearer …`. Tenant keys are checked here; a client token can only
 * be checked against the link it names, so it is passed on for the link read to verify.
 */
export function authenticate(verifier: ApiKeyVerifier, accepts: { clientToken: boolean }): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const credential = bearer(c.req.header('authorization'))
    if (!credential) throw new UnauthorizedError('Send `Authorization: Bearer <API key or client token>`.')
    if (credential.startsWith(CLIENT_TOKEN_PREFIX)) {
      if (!accepts.clientToken) throw new UnauthorizedError('This endpoint needs a tenant API key; a client token can only read its own link.')
      c.set('principal', { kind: 'client', token: credential })
      return next()
    }
    const tenant = credential.startsWith(API_KEY_PREFIX) ? await verifier.verify(credential) : null
    if (!tenant) throw new UnauthorizedError('The API key is invalid or revoked.')
    c.set('principal', { kind: 'tenant', tenantId: tenant.tenantId })
    return next()
  }
}

export function tenantOf(principal: Principal): string {
  if (principal.kind !== 'tenant') throw new UnauthorizedError('This endpoint needs a tenant API key.')
  return principal.tenantId
}
