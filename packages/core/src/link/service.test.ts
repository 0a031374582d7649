import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { clientTokenOpensLink } from '../auth/client-token.ts'
import { ConflictError, IdempotencyMismatchError, NotFoundError, RateLimitedError, ServiceUnavailableError, ValidationError } from '../errors.ts'
import type { LaunchRequest, LinkLauncher } from '../launcher.ts'
import type { RateLimit } from '../store/rate-limit.ts'
import type { CreateOptions } from '../store/link-store.ts'
import { StaleLinkError } from '../store/link-store.ts'
import type { LinkUpdate } from '../store/link-update.ts'
import { linkEnding } from './endings.ts'
import type { Link } from './link.ts'
import { LinkService, type LinkServiceDeps, type LinkServiceStore } from './service.ts'
import { canTransition } from './status.ts'

/**
 * LinkService's own logic, over an in-memory store that keeps LinkStore's contract: writes hold
 * only from the statuses given and at the version given, as the state machine allows; a create
 * writes its guards (the in-progress reservation, rate counters) all or none. DynamoDB itself is
 * test/core's and test/api's.
 */
class MemoryStore implements LinkServiceStore {
  readonly links = new Map<string, Link>()
  readonly keys = new Map<string, { linkId: string; requestHash: string }>()
  readonly sets = new Map<string, Set<string>>()
  readonly tasks: [string, string][] = []
  readonly erased: string[] = []

  inProgress = {
    reservation: (tenantId: string, linkId: string, limit: number) => ({ Update: { TableName: 'memory', Key: { inProgress: tenantId }, UpdateExpression: linkId, ExpressionAttributeValues: { limit } } }),
    prune: async (tenantId: string, now: Date) => {
      const live = [...(this.sets.get(tenantId) ?? [])].map((id) => this.links.get(id)!).filter((l) => ['pending', 'starting', 'awaiting_scan', 'awaiting_code', 'pairing'].includes(l.status) && Date.parse(l.expiresAt) > now.getTime())
      this.sets.set(tenantId, new Set(live.map((l) => l.id)))
      return { live: live.length, firstDeadline: live.map((l) => l.expiresAt).sort()[0] ?? null }
    },
  }

  async create(link: Link, { idempotency, relinkableFrom = [], guards = [] }: CreateOptions = {}) {
    const key = idempotency && `${link.tenantId}#${idempotency.key}`
    if (key && this.keys.has(key)) return { created: false as const, ...this.keys.get(key)! }
    if (link.relinkOf) {
      const old = this.links.get(link.relinkOf)
      if (!old || old.tenantId !== link.tenantId || !relinkableFrom.includes(old.status) || old.relinkedTo) throw new ConflictError('not_relinkable', 'changed meanwhile')
    }
    for (const guard of guards) {
      const refused = guard.items.flatMap((item, i) => {
        const { Key, UpdateExpression, ExpressionAttributeValues } = item.Update!
        const set = this.sets.get(Key!.inProgress as string)
        return Key!.inProgress && (set?.size ?? 0) >= (ExpressionAttributeValues!.limit as number) && !set?.has(UpdateExpression!) ? [i] : []
      })
      if (refused.length) throw guard.refusal(refused)
    }
    for (const guard of guards) for (const item of guard.items) {
      const { Key, UpdateExpression } = item.Update!
      if (Key!.inProgress) this.sets.set(Key!.inProgress as string, (this.sets.get(Key!.inProgress as string) ?? new Set()).add(UpdateExpression!))
    }
    this.links.set(link.id, structuredClone(link))
    if (link.relinkOf) this.write(link.relinkOf, { relinkedTo: link.id })
    if (key) this.keys.set(key, { linkId: link.id, requestHash: idempotency!.requestHash })
    return { created: true as const }
  }

  async findIdempotency(tenantId: string, key: string) {
    return this.keys.get(`${tenantId}#${key}`) ?? null
  }

  async get(id: string) {
    const link = this.links.get(id)
    return link ? structuredClone(link) : null
  }

  async update(id: string, update: LinkUpdate) {
    if (update.to) for (const from of update.from) if (!canTransition(from, update.to)) throw new Error(`Illegal transition ${from} → ${update.to}`)
    const current = this.links.get(id)
    if (!current) throw new NotFoundError()
    if (!update.from.includes(current.status) || (update.version !== undefined && update.version !== current.version)) throw new StaleLinkError(structuredClone(current))
    return this.write(id, { ...update.patch, ...(update.to ? { status: update.to } : {}) })
  }

  async recordTask(id: string, taskArn: string) {
    this.tasks.push([id, taskArn])
  }

  async addClientTokenHash(id: string, hash: string) {
    this.links.get(id)!.clientTokenHashes.push(hash)
  }

  async eraseCredentials(id: string) {
    this.erased.push(id)
  }

  async list() {
    return { links: [...this.links.values()], nextCursor: null }
  }

  /** Puts a link in a given state, as other writers (workers, sweepers) would. */
  write(id: string, fields: Partial<Link>): Link {
    const link = this.links.get(id)!
    Object.assign(link, fields, { version: link.version + 1 })
    return structuredClone(link)
  }
}

class RecordingLauncher implements LinkLauncher {
  readonly launched: LaunchRequest[] = []
  readonly pokes: [string, string][] = []
  fails?: Error
  taskArn?: string
  async launch(request: LaunchRequest) {
    this.launched.push(request)
    if (this.fails) throw this.fails
    return this.taskArn ? { taskArn: this.taskArn } : undefined
  }
  async poke(workerId: string, linkId: string) {
    this.pokes.push([workerId, linkId])
  }
}

const NOW = new Date('2030-01-01T00:00:00.000Z')

function setup(deps: Partial<LinkServiceDeps> = {}) {
  const store = new MemoryStore()
  const launcher = new RecordingLauncher()
  const logged: Record<string, unknown>[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line)) })
  const taken: RateLimit[][] = []
  const rateLimiter = {
    writes: (limits: readonly RateLimit[]) => (taken.push([...limits]), { items: [], refusal: () => new RateLimitedError(1) }),
    consume: async (limits: readonly RateLimit[]) => void taken.push([...limits]),
  }
  const service = new LinkService({ store, launcher, logger, rateLimiter, now: () => NOW, ...deps })
  return { service, store, launcher, logged, taken }
}

const tenant = { kind: 'tenant', tenantId: 'acme' } as const

describe('LinkService.create', () => {
  it('takes the defaults for what the request leaves out, and hands the link to a worker', async () => {
    const { service, store, launcher } = setup()
    const { link, clientToken, replayed } = await service.create('acme', {})
    expect(link).toMatchObject({
      tenantId: 'acme', status: 'pending', method: 'qr', phoneNumber: null, metadata: {}, webhookUrl: null, redirectUrl: null, relinkOf: null, relinkedTo: null,
      createdAt: NOW.toISOString(), expiresAt: new Date(NOW.getTime() + 300_000).toISOString(), version: 1, leaseToken: 0, heartbeatAt: null,
    })
    expect(replayed).toBe(false)
    expect(clientToken).toMatch(/^lct_/)
    expect(clientTokenOpensLink(clientToken, (await store.get(link.id))!)).toBe(true)
    expect(launcher.launched).toEqual([{ linkId: link.id, mode: 'link' }])
  })

  it('normalises the phone number, and a code link must have one', async () => {
    const { service } = setup()
    expect((await service.create('acme', { method: 'code', phoneNumber: '+1 (234) 567-8901' })).link.phoneNumber).toBe('12345678901')
    await expect(service.create('acme', { method: 'code' })).rejects.toThrow(new ValidationError('phoneNumber', 'is required when method is "code"'))
    await expect(service.create('acme', { method: 'code', phoneNumber: 'call me' })).rejects.toBeInstanceOf(ValidationError)
  })

  it('counts the tenant’s creates, and a code link’s codes per phone number across tenants', async () => {
    const { service, taken } = setup()
    await service.create('acme', {})
    await service.create('acme', { method: 'code', phoneNumber: '+1 234 567 8901' })
    expect(taken[0].map((l) => l.subject)).toEqual(['create#acme'])
    expect(taken[1].map(({ subject, limit, windowSeconds }) => ({ subject, limit, windowSeconds }))).toEqual([
      { subject: 'create#acme', limit: 60, windowSeconds: 60 },
      { subject: 'code#12345678901', limit: 3, windowSeconds: 60 },
      { subject: 'code#12345678901', limit: 10, windowSeconds: 3600 },
    ])
  })

  it('a worker that cannot be started fails the link truthfully, logged with the error', async () => {
    const { service, launcher, logged } = setup()
    launcher.fails = new Error('no capacity')
    const { link } = await service.create('acme', {})
    expect(link).toMatchObject({ status: 'failed', error: linkEnding('launch_failed', 'no capacity') })
    expect(logged.find((l) => l.msg === 'worker launch failed')).toMatchObject({ linkId: link.id, err: { type: 'Error', message: 'no capacity' } })
  })

  it('records the task a launcher started, so its stop can be matched to the link', async () => {
    const { service, store, launcher } = setup()
    launcher.taskArn = 'arn:aws:ecs:us-east-1:1:task/c/t1'
    const { link } = await service.create('acme', {})
    expect(store.tasks).toEqual([[link.id, 'arn:aws:ecs:us-east-1:1:task/c/t1']])
  })

  it('replays under the same Idempotency-Key and body (the number however written), with a second token; refuses another body', async () => {
    const { service, store, launcher } = setup()
    const first = await service.create('acme', { method: 'code', phoneNumber: '+1 234 567 8901' }, 'k1')
    const again = await service.create('acme', { method: 'code', phoneNumber: '1 (234) 567-8901' }, 'k1')
    expect(again).toMatchObject({ replayed: true, link: { id: first.link.id } })
    expect(again.clientToken).not.toBe(first.clientToken)
    expect(clientTokenOpensLink(again.clientToken, (await store.get(first.link.id))!)).toBe(true)
    expect(launcher.launched).toHaveLength(1)
    await expect(service.create('acme', { method: 'qr' }, 'k1')).rejects.toBeInstanceOf(IdempotencyMismatchError)
    // The key is the tenant's own.
    expect((await service.create('other', { method: 'code', phoneNumber: '+1 234 567 8901' }, 'k1')).replayed).toBe(false)
  })

  it('a full set of links in progress is pruned once; still full, 429 until the first deadline', async () => {
    const { service, store } = setup({ limits: { createPerMinute: 60, activeLinks: 2 } })
    const a = (await service.create('acme', {})).link
    const b = (await service.create('acme', {})).link
    store.write(a.id, { status: 'failed' })
    await service.create('acme', {}) // a's place is freed by the prune
    const error = await service.create('acme', {}).catch((e) => e)
    expect(error).toBeInstanceOf(RateLimitedError)
    expect(error.retryAfterSeconds).toBe((Date.parse(b.expiresAt) - NOW.getTime()) / 1000)
  })
})

describe('LinkService relinks', () => {
  it('start over for an unlinked link with its method, number and metadata, and point the old one at the new', async () => {
    const { service, store } = setup()
    const old = (await service.create('acme', { method: 'code', phoneNumber: '+1 234 567 8901', metadata: { user: 7 } })).link
    store.write(old.id, { status: 'unlinked' })
    const { link } = await service.create('acme', { relinkOf: old.id })
    expect(link).toMatchObject({ method: 'code', phoneNumber: '12345678901', metadata: { user: 7 }, relinkOf: old.id })
    expect((await store.get(old.id))!.relinkedTo).toBe(link.id)
    await expect(service.create('acme', { relinkOf: old.id })).rejects.toThrow(`The link was already relinked to ${link.id}.`)
  })

  it('log a linked one out first; refuse one in progress; a foreign link is not found', async () => {
    const { service, store, launcher } = setup()
    const linked = (await service.create('acme', {})).link
    store.write(linked.id, { status: 'linked' })
    await service.create('acme', { relinkOf: linked.id })
    expect(launcher.launched.at(-2)).toEqual({ linkId: linked.id, mode: 'logout' })
    const live = (await service.create('acme', {})).link
    await expect(service.create('acme', { relinkOf: live.id })).rejects.toMatchObject({ code: 'not_relinkable' })
    await expect(service.create('other', { relinkOf: live.id })).rejects.toBeInstanceOf(NotFoundError)
  })
})

describe('LinkService.read and ownerOf', () => {
  it('the tenant’s own link, or its client token’s; anything else is not found (never forbidden)', async () => {
    const { service } = setup()
    const { link, clientToken } = await service.create('acme', {})
    const other = await service.create('acme', {})
    expect((await service.read(tenant, link.id)).id).toBe(link.id)
    expect((await service.read({ kind: 'client', token: clientToken }, link.id)).id).toBe(link.id)
    await expect(service.read({ kind: 'client', token: clientToken }, other.link.id)).rejects.toBeInstanceOf(NotFoundError)
    await expect(service.read({ kind: 'tenant', tenantId: 'other' }, link.id)).rejects.toBeInstanceOf(NotFoundError)
    await expect(service.read(tenant, 'lnk_../../etc')).rejects.toBeInstanceOf(NotFoundError)
    expect(await service.ownerOf(link.id)).toBe('acme')
    expect(await service.ownerOf('lnk_00000000000000000000000000')).toBeNull()
    expect(await service.ownerOf('not-an-id')).toBeNull()
  })
})

describe('LinkService.cancel', () => {
  it('ends a link in progress cancelled, tells its worker, and erases what it stored', async () => {
    const { service, store, launcher } = setup()
    const { link } = await service.create('acme', {})
    store.write(link.id, { status: 'awaiting_scan', workerId: 'host-1' })
    const cancelled = await service.cancel('acme', link.id)
    expect(cancelled).toMatchObject({ status: 'cancelled', error: linkEnding('cancelled'), qr: null, pairingCode: null })
    expect(launcher.pokes).toEqual([['host-1', link.id]])
    expect(store.erased).toEqual([link.id])
    // Again: nothing more to do.
    expect(await service.cancel('acme', link.id)).toMatchObject({ status: 'cancelled', version: cancelled.version })
  })

  it('refuses a link that already ended, including by its deadline', async () => {
    const { service, store } = setup()
    const failed = (await service.create('acme', {})).link
    store.write(failed.id, { status: 'failed' })
    await expect(service.cancel('acme', failed.id)).rejects.toThrow(new ConflictError('link_final', 'The link is already failed.'))
    const late = (await service.create('acme', {})).link
    store.write(late.id, { expiresAt: NOW.toISOString() })
    await expect(service.cancel('acme', late.id)).rejects.toThrow('The link is already expired.')
  })

  it('logs a linked device out through a worker: recorded once, sent again when asked again', async () => {
    const requests = new Map<string, { linkId: string; requestedAt: string; attempts: number; lastAttemptAt: number }>()
    const logouts = {
      request: async (linkId: string) => (requests.has(linkId) ? false : (requests.set(linkId, { linkId, requestedAt: NOW.toISOString(), attempts: 1, lastAttemptAt: NOW.getTime() }), true)),
      get: async (linkId: string) => requests.get(linkId) ?? null,
      recordAttempt: async (request: { linkId: string; attempts: number }) => (requests.get(request.linkId)!.attempts++, true),
      done: async (linkId: string) => void requests.delete(linkId),
    }
    const { service, store, launcher } = setup({ logouts })
    const { link } = await service.create('acme', {})
    store.write(link.id, { status: 'linked' })
    expect(await service.cancel('acme', link.id)).toMatchObject({ status: 'linked' })
    expect(await service.cancel('acme', link.id)).toMatchObject({ status: 'linked' })
    expect(launcher.launched.filter((r) => r.mode === 'logout')).toEqual([{ linkId: link.id, mode: 'logout' }, { linkId: link.id, mode: 'logout' }])
    expect(requests.get(link.id)!.attempts).toBe(2)
  })

  it('a logout that cannot be started is a 503 to retry', async () => {
    const { service, store, launcher } = setup()
    const { link } = await service.create('acme', {})
    store.write(link.id, { status: 'linked' })
    launcher.fails = new Error('no capacity')
    await expect(service.cancel('acme', link.id)).rejects.toBeInstanceOf(ServiceUnavailableError)
  })
})

describe('LinkService.requestPairingCode', () => {
  it('switches a QR link waiting for a scan to a code for the normalised number, and tells its worker', async () => {
    const { service, store, launcher, taken } = setup()
    const { link } = await service.create('acme', {})
    store.write(link.id, { status: 'awaiting_scan', workerId: 'host-1' })
    const switched = await service.requestPairingCode('acme', link.id, '+44 20 7946 0958')
    expect(switched).toMatchObject({ method: 'code', phoneNumber: '442079460958', status: 'awaiting_scan' })
    expect(taken.at(-1)!.map((l) => l.subject)).toEqual(['code#442079460958', 'code#442079460958'])
    expect(launcher.pokes).toEqual([['host-1', link.id]])
  })

  it('refuses a code link, and a link past waiting for a scan', async () => {
    const { service, store } = setup()
    const code = (await service.create('acme', { method: 'code', phoneNumber: '+1 234 567 8901' })).link
    await expect(service.requestPairingCode('acme', code.id, '+1 234 567 8901')).rejects.toMatchObject({ code: 'pairing_code_requested' })
    const pairing = (await service.create('acme', {})).link
    store.write(pairing.id, { status: 'pairing' })
    await expect(service.requestPairingCode('acme', pairing.id, '+1 234 567 8901')).rejects.toMatchObject({ code: 'wrong_state' })
  })
})

describe('LinkService.credentials', () => {
  it('only for a linked link that still has them', async () => {
    const state = { creds: { me: { id: '1@s.whatsapp.net' } }, keys: {} }
    const { service, store } = setup({ credentials: async () => state })
    const { link } = await service.create('acme', {})
    await expect(service.credentials('acme', link.id)).rejects.toMatchObject({ code: 'not_linked' })
    store.write(link.id, { status: 'linked' })
    expect(await service.credentials('acme', link.id)).toMatchObject({ link: { id: link.id }, state })
    state.creds = null as never
    await expect(service.credentials('acme', link.id)).rejects.toThrow('The credentials of this link are gone.')
  })
})
