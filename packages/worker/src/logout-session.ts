import type { ConnectionState } from 'baileys'
import { NotFoundError } from '@wa-link-broker/core/errors'
import { StaleLinkError, type LogoutRequests } from '@wa-link-broker/core/store'
import { closeReason, judgeClose } from './disconnect.ts'
import { FencedWriter } from './fenced-writer.ts'
import { keepLease } from './lease.ts'
import type { SessionContext, SessionOutcome, StopRequest } from './link-session.ts'
import { heartbeat, unlinked } from './link-updates.ts'
import type { LinkSocket } from './socket.ts'
import type { AuthStateHandle } from './tracked-auth.ts'

/**
 * Logs a linked device out of WhatsApp, erases its credentials and marks the link `unlinked`.
 * The credentials are erased even when WhatsApp cannot be reached: the tenant asked for them gone.
 * It holds the link's lease and heart-beats like a link session, so the sweepers know it is alive;
 * if it dies, the logout request (kept until the link is unlinked) is sent to a worker again.
 */
export class LogoutSession {
  private sock: LinkSocket | null = null
  private stopRequest?: StopRequest
  private writer?: FencedWriter
  private lost = false

  constructor(private readonly ctx: SessionContext & { requests: LogoutRequests }) {}

  get status() {
    return this.writer?.link.status
  }

  poke(): void {}

  /** SIGTERM or a drain: abandon the logout to another worker (it is not lost: the request stays). */
  async stop(request: StopRequest = {}): Promise<void> {
    this.stopRequest ??= request
    this.sock?.end(undefined)
  }

  async run(version: number): Promise<SessionOutcome> {
    const { store, linkId, workerId, settings, logger } = this.ctx
    try {
      this.writer = new FencedWriter(store, await store.claim(linkId, ['linked'], undefined, { workerId, version }), () => (this.lost = true))
    } catch (error) {
      if (!(error instanceof StaleLinkError || error instanceof NotFoundError)) throw error
      logger.info('someone else had the logout first: nothing to do')
      return { status: error instanceof StaleLinkError ? error.current.status : 'none', note: 'not_ours' }
    }
    const writer = this.writer
    // A linked link is not in the activity index: its heartbeat is a plain fenced write.
    const stopHeartbeat = keepLease(() => writer.write(() => heartbeat(['linked'], new Date())), { ms: settings.heartbeatMs, onLink: () => undefined, logger })
    try {
      const auth = await this.ctx.openAuthState(linkId)
      const result = auth.state.creds.me ? await this.logOut(auth) : 'done'
      if (result === 'stopped' || this.lost) return await this.abandon()
      const confirmed = result === 'done'
      await auth.clear()
      if (await writer.write(() => unlinked(confirmed))) await this.ctx.requests.done(linkId)
      logger.info({ confirmed }, 'unlinked')
      return { status: writer.link.status }
    } finally {
      stopHeartbeat()
    }
  }

  /** Lets go of the lease (so the retry need not wait for it to go stale) and offers the logout to another host. */
  private async abandon(): Promise<SessionOutcome> {
    const { linkId, logger } = this.ctx
    if (this.lost) return { status: this.writer!.link.status, note: 'let_go' }
    await this.writer!.write(() => ({ from: ['linked'], patch: { workerId: null } })).catch((err) => logger.warn({ err }, 'could not let go of the logout'))
    const taken = await this.stopRequest?.handOver?.(linkId).catch(() => false)
    logger.info({ handedOver: taken === true }, 'logout stopped before it finished; it will be sent to a worker again')
    return { status: 'linked', note: taken ? 'handed_over' : 'stopped' }
  }

  /** Connects with the stored credentials and logs out: `done` once WhatsApp has confirmed it. */
  private async logOut(auth: AuthStateHandle): Promise<'done' | 'unconfirmed' | 'stopped'> {
    const { settings, logger, openSocket, reachability, waVersion } = this.ctx
    for (let attempt = 0; attempt <= settings.maxReconnects; attempt++) {
      if (this.stopRequest || this.lost) return 'stopped'
      const { version } = await waVersion.resolve()
      let closed!: (result: 'done' | 'retry') => void
      const outcome = new Promise<'done' | 'retry'>((resolve) => (closed = resolve))
      const sock = await openSocket(auth.state, logger, {
        onCredsUpdate: () => void auth.saveCreds().catch((err) => logger.warn({ err }, 'saving creds failed')),
        onConnectionUpdate: (update: Partial<ConnectionState>) => {
          if (update.connection === 'open') {
            reachability.reachable()
            void sock.logout().catch(() => undefined)
          }
          if (update.connection !== 'close') return
          // A logout (ours, or one already done from the phone) closes with 401.
          const verdict = judgeClose(closeReason(update.lastDisconnect?.error))
          if (verdict.kind === 'unreachable') reachability.unreachable(verdict.reason)
          if (verdict.kind === 'version_rejected') void waVersion.refresh().catch(() => undefined)
          closed(verdict.kind === 'logged_out' ? 'done' : 'retry')
        },
      }, version)
      this.sock = sock
      const timer = setTimeout(() => {
        sock.end(undefined)
        closed('retry')
      }, settings.logoutTimeoutMs)
      const result = await outcome
      clearTimeout(timer)
      this.sock = null
      if (result === 'done') return 'done'
      if (this.stopRequest || this.lost) return 'stopped'
      await new Promise((r) => setTimeout(r, Math.min(4000, 250 * 2 ** attempt)))
    }
    return 'unconfirmed'
  }
}
