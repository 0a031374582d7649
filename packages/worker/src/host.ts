import { HOST_HEARTBEAT_MS, LEASE_STALE_MS, UNCLAIMED_ADOPT_MS, type LinkDispatcher, type HostRegistry } from '@wa-link-broker/core/hosts'
import { linkEnding, type Link } from '@wa-link-broker/core/link'
import type { Logger } from '@wa-link-broker/core/logger'
import { endAbandoned, sweepLogouts, sweepStaleLinks } from '@wa-link-broker/core/sweeper'
import type { WorkerSettings } from './config.ts'
import { Job, type JobContext } from './job.ts'
import type { StopRequest } from './link-session.ts'
import { every } from './periodic.ts'

export interface HostDeps {
  hostId: string
  settings: WorkerSettings
  registry: HostRegistry
  /** Hands links to other warm hosts (never launches); absent for one-shot workers. */
  dispatcher?: LinkDispatcher
  logger: Logger
  /** What every session of this process shares: the store, the auth state, the socket opener. */
  sessions: Omit<JobContext, 'linkId' | 'logger' | 'workerId'>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A worker process: a set of link sessions up to its capacity. It registers `HOST#<hostId>`, polls
 * that item (strongly consistent, every `pollMs`) for links assigned to it and for pokes, heart-beats
 * it, and — as a warm host — sweeps for links whose worker died, taking them over while it has room.
 * One-shot workers (`link`/`logout`) are hosts of capacity 1 that take no other link and exit when
 * theirs is done. SIGTERM drains: no new links, sessions handed over or ended, the item removed.
 */
export class Host {
  private readonly jobs = new Map<string, Job>()
  /** Finished here, but still listed in the host item until the release write lands. */
  private readonly leaving = new Set<string>()
  private readonly loops: (() => void)[] = []
  private state: 'starting' | 'running' | 'draining' | 'stopped' = 'starting'
  private drainRequested = false
  private lastBusyAt = Date.now()
  private resolveDone!: () => void
  /** Resolves once the host has stopped and removed its item. */
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve))

  constructor(private readonly deps: HostDeps) {}

  private get oneShot() {
    return this.deps.settings.mode !== 'host'
  }

  private get log() {
    return this.deps.logger
  }

  /** Links running now. */
  get load(): number {
    return this.jobs.size
  }

  async start(): Promise<void> {
    const { hostId, settings, registry } = this.deps
    await registry.register({ id: hostId, capacity: settings.maxSessions, links: settings.linkId ? [settings.linkId] : [], listed: !this.oneShot })
    this.log.info({ capacity: settings.maxSessions, mode: settings.mode }, 'host registered')
    this.state = 'running'
    const warn = (what: string) => (err: unknown) => this.log.warn({ err }, `${what} failed`)
    await this.poll().catch(warn('first poll')) // takes LINK_ID at once
    this.loops.push(every(settings.pollMs, () => this.poll(), warn('poll')))
    this.loops.push(every(HOST_HEARTBEAT_MS, () => this.heartbeat(), warn('host heartbeat')))
    if (!this.oneShot) this.loops.push(every(settings.sweepMs, () => this.sweep(), warn('peer sweep')))
    if (this.drainRequested) void this.drain()
  }

  private async poll(): Promise<void> {
    if (this.state === 'stopped') return
    const { registry, hostId } = this.deps
    const me = await registry.read(hostId)
    if (!me) return this.registerAgain()
    for (const id of me.pokes) this.jobs.get(id)?.poke()
    if (me.pokes.length) await registry.clearPokes(hostId, me.pokes)
    for (const id of me.links) {
      if (this.jobs.has(id) || this.leaving.has(id)) continue
      if (this.state === 'running') this.startJob(id)
      else if (this.state === 'draining') await this.passOn(id)
    }
    const stillListed = [...this.leaving].filter((id) => me.links.includes(id))
    for (const id of this.leaving) if (!stillListed.includes(id)) this.leaving.delete(id)
    if (stillListed.length) await registry.release(hostId, stillListed)
    await this.exitIfIdle(me.links.length)
  }

  private async heartbeat(): Promise<void> {
    if (this.state === 'stopped') return
    if (!(await this.deps.registry.heartbeat(this.deps.hostId))) await this.registerAgain()
  }

  /** The item is gone (removed by a settle that thought this process dead, or expired): put it back. */
  private async registerAgain(): Promise<void> {
    if (this.state !== 'running') return
    const { hostId, settings, registry } = this.deps
    this.log.warn('the host item was gone; registering again')
    await registry.register({ id: hostId, capacity: settings.maxSessions, links: [...this.jobs.keys()], listed: !this.oneShot })
  }

  private startJob(linkId: string, known?: Link): void {
    const { sessions, hostId } = this.deps
    const job = new Job({ ...sessions, linkId, workerId: hostId, logger: this.log.child({ linkId }) }, known)
    this.jobs.set(linkId, job)
    this.lastBusyAt = Date.now()
    job.done
      .then(
        (outcome) => this.log.debug({ linkId, ...outcome }, 'session done'),
        (err) => this.log.error({ linkId, err }, 'session failed; the sweepers will settle its link'),
      )
      .finally(() => void this.jobEnded(linkId))
  }

  private async jobEnded(linkId: string): Promise<void> {
    this.leaving.add(linkId)
    this.jobs.delete(linkId)
    this.lastBusyAt = Date.now()
    try {
      await this.deps.registry.release(this.deps.hostId, [linkId])
      this.leaving.delete(linkId)
    } catch (err) {
      this.log.warn({ err, linkId }, 'could not release the link from the host item; retrying')
    }
    if (this.oneShot && this.jobs.size === 0 && this.state === 'running') await this.shutdown('done')
  }

  /** The peer sweep: links whose worker died are taken over here while there is room, else ended. */
  private async sweep(): Promise<void> {
    if (this.state !== 'running') return
    const { store, requests } = this.deps.sessions
    await sweepStaleLinks(store, { staleAfterMs: LEASE_STALE_MS, adoptAfterMs: UNCLAIMED_ADOPT_MS, adopt: (link) => this.adopt(link), logger: this.log })
    await sweepLogouts({ store, requests, dispatch: (linkId) => this.adoptOrDispatch(linkId), logger: this.log })
  }

  private async adopt(link: Link): Promise<boolean> {
    if (this.state !== 'running' || this.jobs.has(link.id) || this.jobs.size >= this.deps.settings.maxSessions) return false
    if (!(await this.deps.registry.offer(this.deps.hostId, link.id))) return false
    this.log.info({ linkId: link.id, status: link.status }, 'adopting a link nobody holds')
    if (!this.jobs.has(link.id) && !this.leaving.has(link.id)) this.startJob(link.id, link)
    return true
  }

  private async adoptOrDispatch(linkId: string): Promise<void> {
    if (this.state === 'running' && (await this.deps.registry.offer(this.deps.hostId, linkId))) return
    await this.deps.dispatcher?.dispatch(linkId, { launch: false })
  }

  private async exitIfIdle(listed: number): Promise<void> {
    const { idleExitMs } = this.deps.settings
    if (idleExitMs <= 0 || this.state !== 'running') return
    if (this.jobs.size > 0 || listed > 0) {
      this.lastBusyAt = Date.now()
      return
    }
    if (Date.now() - this.lastBusyAt < idleExitMs) return
    // Conditional on holding nothing, so a link dispatched at this very moment is not stranded.
    if (await this.deps.registry.drain(this.deps.hostId, { onlyIfIdle: true })) await this.shutdown('idle')
  }

  /**
   * SIGTERM: take no new links; let a session whose phone is already pairing finish (briefly); hand
   * the others to other hosts, or end them failed/worker_stopped; all within `drainMs`.
   */
  async drain(): Promise<void> {
    if (this.state === 'starting') {
      this.drainRequested = true
      return this.done
    }
    if (this.state !== 'running') return this.done
    this.state = 'draining'
    const { registry, hostId, dispatcher, settings } = this.deps
    const started = Date.now()
    this.log.info({ sessions: this.jobs.size }, 'draining')
    await registry.drain(hostId).catch((err) => this.log.warn({ err }, 'could not mark the host draining'))
    // Links assigned just before the drain and not started yet.
    const me = await registry.read(hostId).catch(() => null)
    for (const id of me?.links ?? []) if (!this.jobs.has(id) && !this.leaving.has(id)) await this.passOn(id)

    const handOver = dispatcher && !this.oneShot ? async (linkId: string) => (await dispatcher.dispatch(linkId, { launch: false })).to === 'host' : undefined
    const budget = () => Math.max(0, settings.drainMs - (Date.now() - started))
    await Promise.all(
      [...this.jobs.values()].map(async (job) => {
        const done = job.done.catch(() => undefined)
        if (job.status === 'pairing') await Promise.race([done, sleep(Math.min(settings.pairingGraceMs, budget()))])
        const request: StopRequest = { handOver }
        await job.stop(request).catch((err) => this.log.warn({ err }, 'stopping a session failed'))
        await Promise.race([done, sleep(budget())])
      }),
    )
    if (this.jobs.size) this.log.error({ sessions: this.jobs.size }, 'sessions still running at the end of the drain')
    await this.shutdown('drained')
  }

  /** A link given to this host that it will not run (it is draining): to another host, else ended. */
  private async passOn(linkId: string): Promise<void> {
    const { registry, hostId, dispatcher, sessions } = this.deps
    const taken = dispatcher && !this.oneShot ? (await dispatcher.dispatch(linkId, { launch: false }).catch(() => ({ to: 'nobody' }))).to === 'host' : false
    if (!taken) {
      const link = await sessions.store.get(linkId)
      if (link?.status === 'pending' && (await endAbandoned(sessions.store, link, linkEnding('worker_stopped')))) this.log.info({ linkId }, 'ended a link this stopping worker had not started')
    }
    await registry.release(hostId, [linkId])
  }

  private async shutdown(reason: 'done' | 'idle' | 'drained'): Promise<void> {
    if (this.state === 'stopped') return
    this.state = 'stopped'
    for (const stop of this.loops) stop()
    await this.deps.registry.remove(this.deps.hostId).catch((err) => this.log.warn({ err }, 'could not remove the host item'))
    this.log.info({ reason }, 'host stopped')
    this.resolveDone()
  }
}
