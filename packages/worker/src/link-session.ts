import type { ConnectionState } from 'baileys'
import { DEADLINE_ERROR, endingStatus, isInProgress, linkEnding, type Link, type LinkError, type LinkStatus } from '@wa-link-broker/core/link'
import type { Logger } from '@wa-link-broker/core/logger'
import type { LinkStore } from '@wa-link-broker/core/store'
import type { WorkerSettings } from './config.ts'
import { closeReason, judgeClose } from './disconnect.ts'
import { FencedWriter } from './fenced-writer.ts'
import { keepLease } from './lease.ts'
import { accountOf, endedWith, formatPairingCode, handedOver, linkedAs, pairingCodeIssued, pairingCodeWithdrawn, phoneAccepted, qrIssued, qrLifetimeMs } from './link-updates.ts'
import type { Reachability } from './reachability.ts'
import type { LinkSocket, SocketOpener } from './socket.ts'
import type { AuthStateHandle } from './tracked-auth.ts'
import type { WaVersionResolver } from './wa-version.ts'

/** What one session needs from its process; nothing in it is shared mutable state between sessions. */
export interface SessionContext {
  linkId: string
  store: LinkStore
  /** `fresh`: the link's first holder, so nothing is stored yet. */
  openAuthState(linkId: string, options?: { fresh?: boolean }): Promise<AuthStateHandle>
  openSocket: SocketOpener
  /** The session's own logger (tagged with its link). */
  logger: Logger
  settings: WorkerSettings
  /** Recorded on the link by the claim: the host the API pokes. */
  workerId: string
  reachability: Reachability
  /** The WhatsApp Web version each socket announces (wa-version.ts); one per process, cached. */
  waVersion: WaVersionResolver
}

export interface SessionOutcome {
  /** The link's status when the session let go of it (`none`: there was no link). */
  status: LinkStatus | 'none'
  /** Why the session stopped when it was not the one deciding the status. */
  note?: string
}

/** How a stop (SIGTERM, a drain) should end the session. */
export interface StopRequest {
  /** Offers the link to another host after letting go of it; resolves false when none took it. */
  handOver?: (linkId: string) => Promise<boolean>
}

/** Statuses a new holder can resume by reconnecting with the stored auth state. */
const RESUMABLE: readonly LinkStatus[] = ['starting', 'awaiting_scan', 'awaiting_code']
const WORKER_STOPPED: LinkError = linkEnding('worker_stopped')
const FINAL_WRITE_ATTEMPTS = 3

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs one link its caller has claimed: holds its Baileys socket, and writes every QR, pairing code
 * and status change through the fenced writer. Exactly one outcome is reported, and `finish` always runs.
 */
export class LinkSession {
  private writer?: FencedWriter
  private auth?: AuthStateHandle
  private sock: LinkSocket | null = null
  private socketGeneration = 0
  private qrSequence = 0
  private qrsOnThisSocket = 0
  /** The pairing code of the current registration: asked for only once it is not already under way or shown. */
  private code: 'none' | 'requesting' | 'shown' = 'none'
  private paired = false
  private reconnects = 0
  /** WhatsApp refused our version once (405) and the version was read again. */
  private versionRefreshed = false
  /** Set once the session is writing its end (or handing over): socket events are ignored from then on. */
  private ending = false
  private finished = false
  private stopRequest?: StopRequest
  private readonly stoppers: (() => void)[] = []
  private credsSaved: Promise<void> = Promise.resolve()
  private resolveOutcome!: (outcome: SessionOutcome) => void
  readonly outcome = new Promise<SessionOutcome>((resolve) => (this.resolveOutcome = resolve))

  constructor(private readonly ctx: SessionContext) {}

  private get log() {
    return this.ctx.logger
  }

  /** The link's status as this session last knew it. */
  get status(): LinkStatus | undefined {
    return this.writer?.link.status
  }

  /** `link` as the claim returned it; `takeover`: a previous holder had it. */
  async run(link: Link, takeover: boolean): Promise<SessionOutcome> {
    const { store, linkId, settings } = this.ctx
    this.writer = new FencedWriter(store, link, (current) => this.onConflict(current))
    this.qrSequence = link.qr?.sequence ?? 0
    this.log.info({ method: link.method, fence: link.leaseToken }, takeover ? 'took the link over' : 'claimed link')
    if (this.stopRequest) {
      await this.stopNow()
      return this.outcome
    }
    const untilDeadline = Date.parse(link.expiresAt) - Date.now()
    if (untilDeadline <= 0) {
      await this.end(DEADLINE_ERROR)
      return this.outcome
    }
    try {
      this.auth = await this.ctx.openAuthState(linkId, { fresh: link.leaseToken === 1 })
      if (this.finished || this.ending) return this.outcome
      // A registration cannot be resumed on a new socket: a taken-over link starts its registration
      // over with the stored keys (new QRs continue the sequence; a code link gets a new code).
      if (takeover) await this.restartRegistration()
      const writer = this.writer
      this.stoppers.push(keepLease(() => writer.heartbeat(), { ms: settings.heartbeatMs, onLink: (l) => this.observe(l), logger: this.log }))
      const deadline = setTimeout(() => void this.end(DEADLINE_ERROR), untilDeadline)
      this.stoppers.push(() => clearTimeout(deadline))
      await this.connect()
    } catch (error) {
      this.crash(error)
    }
    return this.outcome
  }

  /** The link changed (a cancel, a switch to a pairing code): read it now rather than at the next heartbeat. */
  poke(): void {
    if (!this.writer || this.finished || this.ending) return
    this.ctx.store.get(this.ctx.linkId).then(
      (current) => this.observe(current),
      (err) => this.log.warn({ err }, 'reading the link after a poke failed; the next heartbeat will tell'),
    )
  }

  /**
   * SIGTERM or a drain. With `handOver`, a link still waiting for its user is let go of and offered
   * to another host, which resumes it; otherwise (or if none takes it) it ends failed/worker_stopped.
   */
  stop(request: StopRequest = {}): Promise<SessionOutcome> {
    if (!this.stopRequest) {
      this.stopRequest = request
      // Before run() has started, it does this as soon as it has the link.
      if (this.writer) void this.stopNow()
    }
    return this.outcome
  }

  private async stopNow() {
    if (this.finished || this.ending) return
    const writer = this.writer!
    const handOver = this.stopRequest?.handOver
    if (handOver && RESUMABLE.includes(writer.link.status)) {
      this.ending = true
      this.closeSocket()
      let released = false
      try {
        released = (await writer.write((link) => handedOver(link, new Date()))) !== null
        if (released && (await handOver(this.ctx.linkId))) {
          this.log.info({ status: writer.link.status }, 'handed the link over to another host')
          await this.finish({ status: writer.link.status, note: 'handed_over' })
          return
        }
      } catch (err) {
        this.log.warn({ err }, 'hand-over failed')
      }
      if (this.finished) return // the link was taken meanwhile (a peer adopted it)
      this.ending = false
      if (released) this.log.info('no other host took the link')
    }
    await this.end(WORKER_STOPPED)
  }

  private closeSocket() {
    this.socketGeneration++
    this.sock?.end(undefined)
    this.sock = null
  }

  private async connect() {
    if (this.finished || this.ending) return
    const generation = ++this.socketGeneration
    this.qrsOnThisSocket = 0
    const auth = this.auth!
    const { version } = await this.ctx.waVersion.resolve()
    this.log.debug('connecting to WhatsApp')
    const sock = await this.ctx.openSocket(
      auth.state,
      this.log,
      {
        onConnectionUpdate: (update) => {
          if (generation === this.socketGeneration) void this.onConnectionUpdate(update).catch((error) => this.crash(error))
        },
        onCredsUpdate: () => {
          this.credsSaved = this.credsSaved.then(() => auth.saveCreds()).catch((err) => this.log.error({ err }, 'saving creds failed'))
        },
        // WhatsApp asks this account for a passkey, which a companion cannot give: end now, not at the deadline.
        onPasskeyGate: (type) => {
          if (generation !== this.socketGeneration) return
          this.log.warn({ notification: type }, 'WhatsApp asked for a passkey')
          void this.end(linkEnding('passkey_required'))
        },
      },
      version,
    )
    // The session may have ended while the socket was being made.
    if (this.finished || this.ending || generation !== this.socketGeneration) sock.end(undefined)
    else this.sock = sock
  }

  private async onConnectionUpdate(update: Partial<ConnectionState>) {
    if (this.finished || this.ending) return
    if (update.qr) await this.onQr(update.qr)
    if (update.isNewLogin) await this.onPaired()
    if (update.connection === 'open') await this.onOpen()
    if (update.connection === 'close') await this.onClose(update.lastDisconnect?.error)
  }

  private async onQr(value: string) {
    this.ctx.reachability.reachable()
    this.reconnects = 0
    this.qrSequence++
    this.qrsOnThisSocket++
    const lifetime = qrLifetimeMs(this.qrsOnThisSocket, this.ctx.settings.qrTimeoutMs)
    const qr = { value, sequence: this.qrSequence, expiresAt: new Date(Date.now() + lifetime).toISOString() }
    const written = await this.writer!.write((link) => qrIssued(link, qr))
    if (written) this.log.info({ sequence: qr.sequence }, 'qr issued')
    if (this.writer!.link.method === 'code') await this.requestPairingCode()
  }

  /**
   * Once per registration, after its first QR (Baileys needs the socket registered by then). A
   * failed request is asked again at the next QR, poke or heartbeat.
   */
  private async requestPairingCode() {
    const sock = this.sock
    const link = this.writer!.link
    if (this.code !== 'none' || this.paired || !sock || !link.phoneNumber || this.qrsOnThisSocket === 0 || this.ending) return
    this.code = 'requesting'
    try {
      const raw = await sock.requestPairingCode(link.phoneNumber)
      if (sock !== this.sock || this.finished || this.ending) return
      const pairingCode = { code: formatPairingCode(raw), expiresAt: link.expiresAt }
      const written = await this.writer!.write((current) => pairingCodeIssued(current, pairingCode))
      this.code = 'shown'
      if (written) this.log.info('pairing code issued')
    } catch (err) {
      this.log.warn({ err }, 'asking WhatsApp for a pairing code failed; asking again shortly')
    } finally {
      if (this.code === 'requesting') this.code = 'none'
    }
  }

  private async onPaired() {
    this.paired = true
    await this.writer!.write((link) => phoneAccepted(link))
    this.log.info('phone accepted the pairing')
  }

  private async onOpen() {
    await this.credsSaved
    const { me, platform } = this.auth!.state.creds
    if (!me) throw new Error('connection opened without an account')
    if (this.writer!.link.status !== 'pairing') await this.onPaired()
    const account = accountOf(me, platform)
    const linked = await this.writer!.write(() => linkedAs(account))
    this.log.info({ jid: account.jid }, linked ? 'linked' : 'opened, but the link was no longer ours')
    await this.finish({ status: this.writer!.link.status })
  }

  private async onClose(error: unknown) {
    const closed = closeReason(error)
    const verdict = judgeClose(closed)
    switch (verdict.kind) {
      case 'restart':
        this.log.info('reconnecting, as WhatsApp asks once the phone has paired')
        return this.connect()
      case 'logged_out':
        return this.end(linkEnding('logged_out'))
      case 'replaced':
        return this.end(linkEnding('replaced'))
      case 'qr_exhausted':
        return this.end(linkEnding('qr_exhausted'))
      case 'version_rejected': {
        // The version may have gone stale since it was read: read it once more and try again.
        if (this.versionRefreshed) return this.end(linkEnding('version_rejected'))
        this.versionRefreshed = true
        await this.ctx.waVersion.refresh()
        return this.connect()
      }
      case 'unreachable':
      case 'retry': {
        const { maxReconnects } = this.ctx.settings
        if (++this.reconnects > maxReconnects) {
          const detail = verdict.kind === 'unreachable' ? `WhatsApp could not be reached: ${verdict.reason}.` : `Lost it ${this.reconnects - 1} times in a row; last: ${verdict.reason}`
          return this.end(linkEnding('connection_lost', detail))
        }
        if (verdict.kind === 'unreachable') this.ctx.reachability.unreachable(verdict.reason)
        else this.log.info({ statusCode: closed.statusCode, attempt: this.reconnects }, 'connection lost; reconnecting')
        await sleep(Math.min(8000, 250 * 2 ** this.reconnects))
        if (this.finished || this.ending) return
        if (!this.paired) await this.restartRegistration()
        return this.connect()
      }
    }
  }

  /**
   * `requestPairingCode` sets creds.me before the phone has paired, so a plain reconnect would send
   * a login and be refused with 401. Until pairing succeeds, reconnect as a fresh registration and
   * issue a new code instead.
   */
  private async restartRegistration() {
    const auth = this.auth!
    if (auth.state.creds.me) {
      auth.state.creds.me = undefined
      auth.state.creds.pairingCode = undefined
      await auth.saveCreds()
    }
    this.code = 'none'
    await this.writer!.write((link) => pairingCodeWithdrawn(link))
  }

  /** A link read back (heartbeat, poke): let go if it is no longer ours, follow a method switch, mind the deadline. */
  private observe(current: Link | null) {
    const writer = this.writer
    if (!writer || this.finished || this.ending) return
    if (!current || current.leaseToken !== writer.fence || !isInProgress(current.status)) return void this.letGo(current)
    if (current.version > writer.link.version) writer.link = current
    if (Date.now() >= Date.parse(current.expiresAt)) return void this.end(DEADLINE_ERROR)
    if (current.method === 'code') void this.requestPairingCode()
  }

  private onConflict(current: Link) {
    if (!this.finished && (current.leaseToken !== this.writer!.fence || !isInProgress(current.status))) void this.letGo(current)
  }

  /** Someone else decided the link (a cancel, a sweeper, a host that took it over): stop without writing. */
  private async letGo(current: Link | null) {
    if (this.finished) return
    this.log.info({ status: current?.status ?? 'deleted', leaseLost: current ? current.leaseToken !== this.writer!.fence : true }, 'link no longer ours')
    if (current) this.writer!.link = current
    await this.finish({ status: current?.status ?? 'none', note: 'let_go' })
  }

  /**
   * The final write, in the status the ending leaves (endings.ts), then the end of the session; the
   * session finishes even if the write cannot be made.
   */
  private async end(error: LinkError) {
    if (this.finished || this.ending) return
    this.ending = true
    const to = endingStatus(error.code)
    this.closeSocket()
    try {
      for (let attempt = 1; attempt <= FINAL_WRITE_ATTEMPTS; attempt++) {
        try {
          const written = await this.writer!.write(() => endedWith(to, error))
          if (written) this.log.info({ status: to, code: error?.code }, 'link ended')
          break
        } catch (err) {
          if (attempt === FINAL_WRITE_ATTEMPTS) this.log.error({ err }, 'could not write how the link ended; the sweepers will settle it')
          else await sleep(250 * attempt)
        }
      }
    } finally {
      await this.finish({ status: this.writer!.link.status })
    }
  }

  /** Releases everything the session holds. Never rejects. */
  private async finish(outcome: SessionOutcome) {
    if (this.finished) return
    this.finished = true
    for (const stop of this.stoppers) stop()
    this.closeSocket()
    try {
      await this.credsSaved
      await this.writer?.idle()
      const status = this.writer?.link.status
      // Keys of a link that will never be linked are worthless and still secret: erase them. A
      // newer holder of the lease still needs them, so only once the link is over.
      if (this.auth && status && !isInProgress(status) && status !== 'linked') await this.auth.clear()
    } catch (err) {
      this.log.error({ err }, 'cleaning up after the link failed')
    }
    this.resolveOutcome(outcome)
  }

  private crash(error: unknown) {
    this.log.error({ err: error }, 'session crashed')
    void this.end(linkEnding('worker_crashed'))
  }
}
