import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { clientTokenOpensLink, newClientToken } from '../auth/client-token.ts'
import { ConflictError, IdempotencyMismatchError, NotFoundError, RateLimitedError, ServiceUnavailableError, ValidationError } from '../errors.ts'
import { isLinkId, newLinkId } from '../ids.ts'
import type { LinkLauncher } from '../launcher.ts'
import type { ExportedAuthState } from '../auth-state/export.ts'
import { DEFAULT_TENANT_LIMITS, DEFAULT_TTL_SECONDS, MAX_CLIENT_TOKENS_PER_LINK, PHONE_CODE_WINDOWS, type TenantLimits } from './limits.ts'
import { normalizePhoneNumber } from './phone.ts'
import type { RateLimit, RateLimiter } from '../store/rate-limit.ts'
import type { LogoutRequests } from '../store/logout-requests.ts'
import { retryLogout } from '../sweeper.ts'
import { InProgressSetFull, type InProgressLinks } from '../store/in-progress.ts'
import type { IdempotencyRecord } from '../store/idempotency.ts'
import { StaleLinkError, type CreateGuard, type LinkStore } from '../store/link-store.ts'
import { endingStatus, linkEnding } from './endings.ts'
import { effectiveStatus, type Link, type LinkMethod } from './link.ts'
import { IN_PROGRESS_STATUSES, isFinal, type LinkStatus } from './status.ts'

/** What a request asked for; what it leaves out takes a default (for a relink: the old link's). */
export interface CreateLinkInput {
  /** Default "qr"; a relink: the old link's. */
  method?: LinkMethod
  /** Any common human format with country code (normalised here to E.164 digits). Required for "code"; a relink: the old link's. */
  phoneNumber?: string | null
  webhookUrl?: string | null
  /** Already validated (webUrlProblem). */
  redirectUrl?: string | null
  /** Default {}; a relink: the old link's. */
  metadata?: Record<string, unknown>
  /** Default DEFAULT_TTL_SECONDS. */
  ttlSeconds?: number
  /** Start over for this link of the tenant: one that ended `unlinked`, or a `linked` one whose device was logged out. */
  relinkOf?: string
}

/** A link may be relinked once it is unlinked, or while linked (its device is then logged out first). */
export const RELINKABLE_STATUSES: readonly LinkStatus[] = ['linked', 'unlinked']

const SWITCHABLE_STATUSES: LinkStatus[] = ['pending', 'starting', 'awaiting_scan']
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600

/** Who is asking: a tenant (full access to its links) or a link's client token (read only). */
export type Principal = { kind: 'tenant'; tenantId: string } | { kind: 'client'; token: string }

/** What the service needs of the link store (LinkStore in the product). */
export type LinkServiceStore = Pick<LinkStore, 'create' | 'findIdempotency' | 'get' | 'update' | 'recordTask' | 'addClientTokenHash' | 'eraseCredentials' | 'list'> & {
  inProgress: Pick<InProgressLinks, 'reservation' | 'prune'>
}

export interface LinkServiceDeps {
  store: LinkServiceStore
  launcher: LinkLauncher
  logger: Logger
  /** Reads a linked session's decrypted auth state; absent where credentials are not served. */
  credentials?: (linkId: string) => Promise<ExportedAuthState>
  rateLimiter?: Pick<RateLimiter, 'writes' | 'consume'>
  /** Records logouts so the sweepers retry one whose worker dies; without it a logout is launched once. */
  logouts?: Pick<LogoutRequests, 'request' | 'get' | 'recordAttempt' | 'done'>
  /** Per-tenant limits; DEFAULT_TENANT_LIMITS unless configured. */
  limits?: TenantLimits
  now?: () => Date
}

/** The link use cases, free of HTTP. */
export class LinkService {
  private readonly now: () => Date
  private readonly limits: TenantLimits

  constructor(private readonly deps: LinkServiceDeps) {
    this.now = deps.now ?? (() => new Date())
    this.limits = deps.limits ?? DEFAULT_TENANT_LIMITS
  }

  async create(tenantId: string, given: CreateLinkInput, idempotencyKey?: string): Promise<{ link: Link; clientToken: string; replayed: boolean }> {
    // Normalised first: the same number written two ways is the same request (for its Idempotency-Key too).
    const input = given.phoneNumber ? { ...given, phoneNumber: normalizePhoneNumber(given.phoneNumber) } : given
    const requestHash = createHash('sha256').update(JSON.stringify(canonical(input))).digest('hex')
    if (idempotencyKey) {
      const replay = await this.replay(tenantId, idempotencyKey, requestHash)
      if (replay) return replay
    }
    const old = input.relinkOf ? await this.relinkable(tenantId, input.relinkOf) : undefined
    const method = input.method ?? old?.method ?? 'qr'
    const phoneNumber = input.phoneNumber ?? old?.phoneNumber ?? null
    if (method === 'code' && !phoneNumber) throw new ValidationError('phoneNumber', 'is required when method is "code"')
    const now = this.now()
    const { token, hash } = newClientToken()
    const link: Link = {
      id: newLinkId(),
      tenantId,
      status: 'pending',
      method,
      phoneNumber,
      qr: null,
      pairingCode: null,
      account: null,
      error: null,
      metadata: input.metadata ?? old?.metadata ?? {},
      webhookUrl: input.webhookUrl ?? null,
      redirectUrl: input.redirectUrl ?? null,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + (input.ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000).toISOString(),
      version: 1,
      leaseToken: 0,
      heartbeatAt: null,
      workerId: null,
      clientTokenHashes: [hash],
      relinkOf: old?.id ?? null,
      relinkedTo: null,
    }
    const idempotency = idempotencyKey ? { key: idempotencyKey, requestHash, ttlSeconds: IDEMPOTENCY_TTL_SECONDS } : undefined
    const result = await this.store(link, idempotency, [
      { subject: `create#${tenantId}`, limit: this.limits.createPerMinute, windowSeconds: 60, what: 'links started by this tenant' },
      ...(method === 'code' && phoneNumber ? phoneCodeLimits(phoneNumber) : []),
    ])
    if (!result.created) {
      // Lost a race with a concurrent request carrying the same key.
      const replay = await this.replay(tenantId, idempotencyKey!, requestHash)
      if (replay) return replay
      throw new ConflictError('idempotency_conflict', 'A concurrent request with this Idempotency-Key is in progress.')
    }
    this.deps.logger.info({ linkId: link.id, tenantId, method: link.method, relinkOf: link.relinkOf ?? undefined }, 'link created')
    // The old device's credentials are dead or about to be replaced: log it out as DELETE would.
    if (old?.status === 'linked') await this.unlink(old).catch((err) => this.deps.logger.warn({ err, linkId: old.id }, 'could not start the logout of the relinked link; DELETE it to retry'))
    return { link: await this.launch(link, 'link'), clientToken: token, replayed: false }
  }

  /** The tenant's link a relink starts over for: 404 like any foreign link; 409 unless it can be relinked. */
  private async relinkable(tenantId: string, linkId: string): Promise<Link> {
    const old = await this.read({ kind: 'tenant', tenantId }, linkId)
    if (old.relinkedTo) throw new ConflictError('not_relinkable', `The link was already relinked to ${old.relinkedTo}.`)
    if (!RELINKABLE_STATUSES.includes(old.status)) {
      throw new ConflictError('not_relinkable', `Only a linked or unlinked link can be relinked (it is ${effectiveStatus(old, this.now()).status}).`)
    }
    return old
  }

  private async replay(tenantId: string, key: string, requestHash: string) {
    const existing = await this.deps.store.findIdempotency(tenantId, key)
    if (!existing) return null
    if (existing.requestHash !== requestHash) throw new IdempotencyMismatchError()
    const link = await this.deps.store.get(existing.linkId)
    if (!link) throw new NotFoundError('The link created under this Idempotency-Key no longer exists.')
    // The original token's plaintext is gone by design; the replay gets a second token for the same link.
    const { token, hash } = newClientToken()
    await this.deps.store.addClientTokenHash(link.id, hash, MAX_CLIENT_TOKENS_PER_LINK)
    return { link, clientToken: token, replayed: true }
  }

  /**
   * Creates the link with its rate counters and its place among the tenant's links in progress, all
   * in one transaction: a request refused by any of them uses up none of the others. A full set of
   * links in progress is pruned of finished ones once, then the create is tried again.
   */
  private async store(link: Link, idempotency: IdempotencyRecord | undefined, rateLimits: RateLimit[]) {
    const { store, rateLimiter } = this.deps
    for (let pruned = false; ; pruned = true) {
      const guards: CreateGuard[] = [
        { items: [store.inProgress.reservation(link.tenantId, link.id, this.limits.activeLinks)], refusal: () => new InProgressSetFull() },
        ...(rateLimiter && rateLimits.length ? [rateLimiter.writes(rateLimits, this.now())] : []),
      ]
      try {
        return await store.create(link, { idempotency, relinkableFrom: RELINKABLE_STATUSES, guards })
      } catch (error) {
        if (!(error instanceof InProgressSetFull)) throw error
        const now = this.now()
        const { live, firstDeadline } = await store.inProgress.prune(link.tenantId, now)
        if (!pruned && live < this.limits.activeLinks) continue
        // A slot surely frees when the first of them reaches its deadline (sooner if one finishes).
        const retryAfter = firstDeadline ? Math.max(1, Math.ceil((Date.parse(firstDeadline) - now.getTime()) / 1000)) : 1
        throw new RateLimitedError(retryAfter, `Too many links in progress for this tenant (at most ${this.limits.activeLinks} at once)`)
      }
    }
  }

  /**
   * Hands the link to a worker and returns the link as it then stands: a launcher that cannot start
   * one fails the link truthfully (a logout that cannot start is the caller's to retry).
   */
  private async launch(link: Link, mode: 'link' | 'logout'): Promise<Link> {
    try {
      const started = await this.deps.launcher.launch({ linkId: link.id, mode })
      if (started?.taskArn) await this.recordTask(link.id, started.taskArn)
      return link
    } catch (error) {
      this.deps.logger.error({ linkId: link.id, mode, err: error }, 'worker launch failed')
      if (mode === 'logout') throw new ServiceUnavailableError('launch_failed', 'The logout could not be started; try again.')
      const failure = linkEnding('launch_failed', (error as Error).message)
      return this.deps.store.update(link.id, { from: ['pending'], to: endingStatus(failure.code), patch: { error: failure } }).catch((e) => {
        if (e instanceof StaleLinkError) return e.current
        throw e
      })
    }
  }

  /** The task ARN lets the task-stopped rule settle the link at once; without it the sweeper still will. */
  private async recordTask(linkId: string, taskArn: string): Promise<void> {
    await this.deps.store.recordTask(linkId, taskArn).catch((err) => this.deps.logger.warn({ err, linkId, taskArn }, 'could not record the worker task on the link'))
  }

  /** The link if this principal may read it; otherwise NotFound (never Forbidden: no existence oracle). */
  async read(principal: Principal, linkId: string): Promise<Link> {
    const link = isLinkId(linkId) ? await this.deps.store.get(linkId) : null
    if (!link) throw new NotFoundError()
    const allowed = principal.kind === 'tenant' ? link.tenantId === principal.tenantId : clientTokenOpensLink(principal.token, link)
    if (!allowed) throw new NotFoundError()
    return link
  }

  /**
   * The tenant a link belongs to, asked without credentials (null for no such link): only for what
   * is public anyway, such as which logo origin the hosted page's CSP allows.
   */
  async ownerOf(linkId: string): Promise<string | null> {
    const link = isLinkId(linkId) ? await this.deps.store.get(linkId) : null
    return link?.tenantId ?? null
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
      const ending = linkEnding('cancelled')
      const cancelled = await this.deps.store.update(linkId, {
        from: IN_PROGRESS_STATUSES,
        to: endingStatus(ending.code),
        patch: { qr: null, pairingCode: null, error: ending },
      })
      this.deps.logger.info({ linkId, tenantId }, 'link cancelled')
      await this.poke(cancelled)
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

  /**
   * Logging a linked device out needs its socket: a worker does it. The request is recorded first,
   * so if the worker cannot start or dies, the sweepers dispatch it again until the link is unlinked.
   */
  private async unlink(link: Link): Promise<Link> {
    const { logouts, logger } = this.deps
    if (!logouts) {
      await this.launch(link, 'logout')
      logger.info({ linkId: link.id }, 'logout requested')
      return link
    }
    let requested: boolean
    try {
      requested = await logouts.request(link.id, this.now())
    } catch (error) {
      if (error instanceof StaleLinkError && isFinal(error.current.status)) return error.current
      throw error
    }
    const send = () => this.launch(link, 'logout')
    if (requested) {
      logger.info({ linkId: link.id }, 'logout requested')
      await send().catch(() => undefined) // logged by launch(); the sweepers retry it
      return link
    }
    // Asked again: send it again at once unless a live worker is on it (never giving up here; the sweepers bound it).
    const { store } = this.deps
    await retryLogout({ store, requests: logouts, dispatch: send, logger }, link.id, { force: true, maxAttempts: Number.POSITIVE_INFINITY }).catch(() => undefined)
    return link
  }

  /** Best effort: the worker holding the link re-reads it now rather than at its next heartbeat. */
  private async poke(link: Link): Promise<void> {
    if (link.workerId) await this.deps.launcher.poke?.(link.workerId, link.id).catch(() => undefined)
  }

  /**
   * Switches a running QR link to a pairing code without starting over: the worker notices the
   * method change and asks WhatsApp for a code on the socket it already holds.
   */
  async requestPairingCode(tenantId: string, linkId: string, givenNumber: string): Promise<Link> {
    const phoneNumber = normalizePhoneNumber(givenNumber)
    const link = await this.read({ kind: 'tenant', tenantId }, linkId)
    const { status } = effectiveStatus(link, this.now())
    if (link.method === 'code') throw new ConflictError('pairing_code_requested', 'This link already uses a pairing code.')
    if (!SWITCHABLE_STATUSES.includes(status)) throw new ConflictError('wrong_state', `A pairing code can only be requested while the link waits for a scan (it is ${status}).`)
    await this.deps.rateLimiter?.consume(phoneCodeLimits(phoneNumber), this.now())
    try {
      const switched = await this.deps.store.update(linkId, { from: SWITCHABLE_STATUSES, version: link.version, patch: { method: 'code', phoneNumber } })
      await this.poke(switched)
      return switched
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

/** Pairing codes sent to one number, whichever tenant asks (see PHONE_CODE_WINDOWS). */
function phoneCodeLimits(phoneNumber: string): RateLimit[] {
  return PHONE_CODE_WINDOWS.map(({ windowSeconds, limit }) => ({ subject: `code#${phoneNumber}`, limit, windowSeconds, what: 'pairing codes requested for this phone number' }))
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
