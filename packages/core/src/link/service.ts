import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { clientTokenOpensLink, newClientToken } from '../auth/client-token.ts'
import { ConflictError, IdempotencyMismatchError, NotFoundError, ServiceUnavailableError } from '../errors.ts'
import { isLinkId, newLinkId } from '../ids.ts'
import type { LinkLauncher } from '../launcher.ts'
import type { ExportedAuthState } from '../auth-state/dynamodb-auth-state.ts'
import type { RateLimiter } from '../rate-limit.ts'
import { StaleLinkError, type LinkStore } from '../store/link-store.ts'
import { linkEnding } from './endings.ts'
import { effectiveStatus, type Link, type LinkMethod } from './link.ts'
import { IN_PROGRESS_STATUSES, isFinal, type LinkStatus } from './status.ts'

export interface CreateLinkInput {
  method: LinkMethod
  /** Already normalised to E.164 digits. */
  phoneNumber: string | null
  webhookUrl: string | null
  /** Already validated (webUrlProblem). */
  redirectUrl?: string | null
  metadata: Record<string, unknown>
  ttlSeconds: number
}

export const DEFAULT_TTL_SECONDS = 300
const SWITCHABLE_STATUSES: LinkStatus[] = ['pending', 'starting', 'awaiting_scan']
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600

/** Who is asking: a tenant (full access to its links) or a link's client token (read only). */
export type Principal = { kind: 'tenant'; tenantId: string } | { kind: 'client'; token: string }

export interface LinkServiceDeps {
  store: LinkStore
  launcher: LinkLauncher
  logger: Logger
  /** Reads a linked session's decrypted auth state; absent where credentials are not served. */
  credentials?: (linkId: string) => Promise<ExportedAuthState>
  rateLimiter?: RateLimiter
  now?: () => Date
}

/** The link use cases, free of HTTP. */
export class LinkService {
  private readonly now: () => Date

  constructor(private readonly deps: LinkServiceDeps) {
    this.now = deps.now ?? (() => new Date())
  }

  async create(tenantId: string, input: CreateLinkInput, idempotencyKey?: string): Promise<{ link: Link; clientToken: string; replayed: boolean }> {
    const requestHash = createHash('sha256').update(JSON.stringify(canonical(input))).digest('hex')
    if (idempotencyKey) {
      const replay = await this.replay(tenantId, idempotencyKey, requestHash)
      if (replay) return replay
    }
    await this.deps.rateLimiter?.consume(`create#${tenantId}`)
    const now = this.now()
    const { token, hash } = newClientToken()
    const link: Link = {
      id: newLinkId(),
      tenantId,
      status: 'pending',
      method: input.method,
      phoneNumber: input.phoneNumber,
      qr: null,
      pairingCode: null,
      account: null,
      error: null,
      metadata: input.metadata,
      webhookUrl: input.webhookUrl,
      redirectUrl: input.redirectUrl ?? null,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + input.ttlSeconds * 1000).toISOString(),
      version: 1,
      leaseToken: 0,
      heartbeatAt: null,
      clientTokenHashes: [hash],
    }
    const result = await this.deps.store.create(link, idempotencyKey ? { key: idempotencyKey, requestHash, ttlSeconds: IDEMPOTENCY_TTL_SECONDS } : undefined)
    if (!result.created) {
      // Lost a race with a concurrent request carrying the same key.
      const replay = await this.replay(tenantId, idempotencyKey!, requestHash)
      if (replay) return replay
      throw new ConflictError('idempotency_conflict', 'A concurrent request with this Idempotency-Key is in progress.')
    }
    this.deps.logger.info({ linkId: link.id, tenantId, method: link.method }, 'link created')
    return { link: await this.launch(link, 'link'), clientToken: token, replayed: false }
  }

  private async replay(tenantId: string, key: string, requestHash: string) {
    const existing = await this.deps.store.findIdempotency(tenantId, key)
    if (!existing) return null
    if (existing.requestHash !== requestHash) throw new IdempotencyMismatchError()
    const link = await this.deps.store.get(existing.linkId)
    if (!link) throw new NotFoundError('The link created under this Idempotency-Key no longer exists.')
    // The original token's plaintext is gone by design; the replay gets a second token for the same link.
    const { token, hash } = newClientToken()
    await this.deps.store.addClientTokenHash(link.id, hash)
    return { link, clientToken: token, replayed: true }
  }

  /**
   * Hands the link to a worker and returns the link as it then stands: a launcher that cannot start
   * one fails the link truthfully (a logout that cannot start is the caller's to retry).
   */
  private async launch(link: Link, mode: 'link' | 'logout'): Promise<Link> {
    try {
      await this.deps.launcher.launch({ linkId: link.id, mode })
      return link
    } catch (error) {
      this.deps.logger.error({ linkId: link.id, mode, err: { name: (error as Error).name, message: (error as Error).message } }, 'worker launch failed')
      if (mode === 'logout') throw new ServiceUnavailableError('launch_failed', 'The logout could not be started; try again.')
      const failure = linkEnding('launch_failed', (error as Error).message)
      return this.deps.store.update(link.id, { from: ['pending'], to: 'failed', patch: { error: failure } }).catch((e) => {
        if (e instanceof StaleLinkError) return e.current
        throw e
      })
    }
  }

  /** The link if this principal may read it; otherwise NotFound (never Forbidden: no existence oracle). */
  async read(principal: Principal, linkId: string): Promise<Link> {
    const link = isLinkId(linkId) ? await this.deps.store.get(linkId) : null
    if (!link) throw new NotFoundError()
    const allowed = principal.kind === 'tenant' ? link.tenantId === principal.tenantId : clientTokenOpensLink(principal.token, link)
    if (!allowed) throw new NotFoundError()
    return link
  }

  list(tenantId: string, options: { status?: LinkStatus; limit: number; cursor?: string }) {
    return this.deps.store.list(tenantId, { ...options, now: this.now() })
  }

  /** Cancels a link in progress. Cancelling a cancelled link again is a no-op. */
  async cancel(tenantId: string, linkId: string): Promise<Link> {
    const link = await this.read({ kind: 'tenant', tenantId }, linkId)
    const { status } = effectiveStatus(link, this.now())
    if (status === 'cancelled' || status === 'unlinked') return link
    if (status === 'linked') return this.unlink(link)
    if (isFinal(status)) throw new ConflictError('link_final', `The link is already ${status}.`)
    try {
      const cancelled = await this.deps.store.update(linkId, {
        from: IN_PROGRESS_STATUSES,
        to: 'cancelled',
        patch: { qr: null, pairingCode: null, error: linkEnding('cancelled') },
      })
      this.deps.logger.info({ linkId, tenantId }, 'link cancelled')
      // Its worker may be gone; a live one erases again as it lets go.
      await this.deps.store.eraseCredentials(linkId)
      return cancelled
    } catch (error) {
      if (error instanceof StaleLinkError && error.current.status === 'linked') return this.unlink(error.current)
      if (error instanceof StaleLinkError && error.current.status === 'cancelled') return error.current
      if (error instanceof StaleLinkError) throw new ConflictError('link_final', `The link is already ${error.current.status}.`)
      throw error
    }
  }

  /** Logging a linked device out needs its socket: a worker does it in logout mode. */
  private async unlink(link: Link): Promise<Link> {
    await this.launch(link, 'logout')
    this.deps.logger.info({ linkId: link.id }, 'logout requested')
    return link
  }

  /**
   * Switches a running QR link to a pairing code without starting over: the worker notices the
   * method change and asks WhatsApp for a code on the socket it already holds.
   */
  async requestPairingCode(tenantId: string, linkId: string, phoneNumber: string): Promise<Link> {
    const link = await this.read({ kind: 'tenant', tenantId }, linkId)
    const { status } = effectiveStatus(link, this.now())
    if (link.method === 'code') throw new ConflictError('pairing_code_requested', 'This link already uses a pairing code.')
    if (!SWITCHABLE_STATUSES.includes(status)) throw new ConflictError('wrong_state', `A pairing code can only be requested while the link waits for a scan (it is ${status}).`)
    try {
      return await this.deps.store.update(linkId, { from: SWITCHABLE_STATUSES, version: link.version, patch: { method: 'code', phoneNumber } })
    } catch (error) {
      if (error instanceof StaleLinkError) throw new ConflictError('wrong_state', `The link changed meanwhile (it is ${error.current.status}); read it and try again.`)
      throw error
    }
  }

  /** The linked session's auth state, for the tenant's backend to run its own socket. */
  async credentials(tenantId: string, linkId: string): Promise<{ link: Link; state: ExportedAuthState }> {
    const link = await this.read({ kind: 'tenant', tenantId }, linkId)
    if (link.status !== 'linked') throw new ConflictError('not_linked', `Credentials exist only for a linked link (it is ${effectiveStatus(link, this.now()).status}).`)
    if (!this.deps.credentials) throw new Error('credentials reader not configured')
    const state = await this.deps.credentials(linkId)
    if (!state.creds) throw new ConflictError('not_linked', 'The credentials of this link are gone.')
    this.deps.logger.info({ linkId, tenantId }, 'credentials read')
    return { link, state }
  }
}

function canonical(input: CreateLinkInput): unknown {
  const sort = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sort)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sort(v)]))
        : value
  return sort(input)
}
