import type { AuthenticationState, ConnectionState, WASocket } from 'baileys'
import {
  canTransition,
  DEADLINE_ERROR,
  IN_PROGRESS_STATUSES,
  isInProgress,
  linkEnding,
  NotFoundError,
  StaleLinkError,
  type Link,
  type LinkError,
  type LinkStatus,
  type LinkStore,
  type LinkUpdate,
  type Logger,
} from '@wa-link-broker/core'
import type { WorkerSettings } from './config.ts'
import { closeReason, judgeClose } from './disconnect.ts'
import { watchPasskeyGate } from './passkey.ts'
import { loadBaileys, openSocket } from './socket.ts'
import type { WaVersionResolver } from './wa-version.ts'

export interface AuthStateHandle {
  state: AuthenticationState
  saveCreds(): Promise<void>
  clear(): Promise<void>
}

export interface SessionDeps {
  store: LinkStore
  openAuthState(linkId: string): Promise<AuthStateHandle>
  logger: Logger
  settings: WorkerSettings
  /** The WhatsApp Web version each socket announces (wa-version.ts). */
  waVersion: WaVersionResolver
}

export interface SessionOutcome {
  /** The link's status when the worker let go of it. */
  status: LinkStatus
  /** Why the worker stopped when it was not the one deciding the status. */
  note?: string
}

const FIRST_QR_MS = 60_000 // Baileys' rotation without qrTimeout: the first ref lives 60 s…
const LATER_QR_MS = 20_000 // …and each later one 20 s.

const WORKER_STOPPED: LinkError = linkEnding('worker_stopped')

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs one link: claims it, holds the Baileys socket, and writes every QR, pairing code and status
 * change to the store under the lease's fencing token. Exactly one final outcome is reported.
 */
export class LinkSession {
  private link!: Link
  private fence = 0
  private auth!: AuthStateHandle
  private sock: WASocket | null = null
  private socketGeneration = 0
  private qrSequence = 0
  private qrsOnThisSocket = 0
  private codeRequested = false
  private paired = false
  private reconnects = 0
  /** WhatsApp refused our version once (405) and the version was read again. */
  private versionRefreshed = false
  private finished = false
  private stopRequested = false
  private readonly timers: NodeJS.Timeout[] = []
  private writes: Promise<unknown> = Promise.resolve()
  private credsSaved: Promise<void> = Promise.resolve()
  private resolveOutcome!: (outcome: SessionOutcome) => void
  readonly outcome = new Promise<SessionOutcome>((resolve) => (this.resolveOutcome = resolve))

  constructor(private readonly deps: SessionDeps) {}

  private get log() {
    return this.deps.logger
  }

  async run(): Promise<SessionOutcome> {
    const { store, settings } = this.deps
    try {
      this.link = await store.claim(settings.linkId, ['pending'], 'starting')
    } catch (error) {
      if (error instanceof StaleLinkError || error instanceof NotFoundError) {
        const status = error instanceof StaleLinkError ? error.current.status : 'cancelled'
        this.log.warn({ status }, 'link is not pending: nothing to do')
        return { status, note: 'not_pending' }
      }
      throw error
    }
    this.fence = this.link.leaseToken
    this.qrSequence = this.link.qr?.sequence ?? 0
    this.log.info({ method: this.link.method, fence: this.fence }, 'claimed link')
    if (this.stopRequested) {
      await this.end('failed', WORKER_STOPPED)
      return this.outcome
    }

    const untilDeadline = Date.parse(this.link.expiresAt) - Date.now()
    if (untilDeadline <= 0) {
      await this.end('expired', DEADLINE_ERROR)
      return this.outcome
    }
    this.auth = await this.deps.openAuthState(settings.linkId)
    if (this.finished) return this.outcome
    this.every(settings.heartbeatMs, () => this.heartbeat())
    this.every(settings.watchMs, () => this.watch())
    this.timers.push(setTimeout(() => void this.end('expired', DEADLINE_ERROR), untilDeadline))
    await this.connect()
    return this.outcome
  }

  /** SIGTERM: the link cannot go on without this process, so say so rather than leave it hanging. */
  async stop(): Promise<SessionOutcome> {
    this.stopRequested = true
    // Before the claim has landed, run() ends the session as soon as it has the link.
    if (this.link && !this.finished) {
      if (isInProgress(this.link.status)) await this.end('failed', WORKER_STOPPED)
      else await this.finish({ status: this.link.status, note: 'stopped' })
    }
    return this.outcome
  }

  private every(ms: number, task: () => Promise<void>) {
    const timer = setInterval(() => {
      task().catch((error) => this.log.warn({ err: { message: (error as Error).message } }, 'periodic task failed'))
    }, ms)
    this.timers.push(timer)
  }

  private async connect() {
    if (this.finished) return
    const generation = ++this.socketGeneration
    this.qrsOnThisSocket = 0
    const { version } = await this.deps.waVersion.resolve()
    const sock = await openSocket(this.auth.state, this.deps.settings, this.log, {
      onConnectionUpdate: (update) => {
        if (generation === this.socketGeneration) void this.onConnectionUpdate(update).catch((error) => this.crash(error))
      },
      onCredsUpdate: () => {
        this.credsSaved = this.credsSaved.then(() => this.auth.saveCreds()).catch((error) => this.log.error({ err: { message: (error as Error).message } }, 'saving creds failed'))
      },
    }, version)
    // WhatsApp asks this account for a passkey, which a companion cannot give: end now, not at the deadline.
    watchPasskeyGate(sock, (type) => {
      if (generation !== this.socketGeneration) return
      this.log.warn({ notification: type }, 'WhatsApp asked for a passkey')
      void this.end('failed', linkEnding('passkey_required'))
    })
    // The session may have ended while Baileys loaded.
    if (this.finished || generation !== this.socketGeneration) sock.end(undefined)
    else this.sock = sock
  }

  private async onConnectionUpdate(update: Partial<ConnectionState>) {
    if (this.finished) return
    if (update.qr) await this.onQr(update.qr)
    if (update.isNewLogin) await this.onPaired()
    if (update.connection === 'open') await this.onOpen()
    if (update.connection === 'close') await this.onClose(update.lastDisconnect?.error)
  }

  private async onQr(value: string) {
    this.reconnects = 0
    this.qrSequence++
    this.qrsOnThisSocket++
    const lifetime = this.deps.settings.qrTimeoutMs ?? (this.qrsOnThisSocket === 1 ? FIRST_QR_MS : LATER_QR_MS)
    const qr = { value, sequence: this.qrSequence, expiresAt: new Date(Date.now() + lifetime).toISOString() }
    await this.write((link) => (link.status === 'starting' ? { from: ['starting'], to: 'awaiting_scan', patch: { qr } } : { from: ['awaiting_scan', 'awaiting_code'], patch: { qr } }))
    this.log.info({ sequence: qr.sequence }, 'qr issued')
    if (this.link.method === 'code') await this.requestPairingCode()
  }

  /** Once per registration, after its first QR (Baileys needs the socket registered by then). */
  private async requestPairingCode() {
    const sock = this.sock
    const phoneNumber = this.link.phoneNumber
    if (this.codeRequested || this.paired || !sock || !phoneNumber || this.qrsOnThisSocket === 0) return
    this.codeRequested = true
    const raw = await sock.requestPairingCode(phoneNumber)
    if (sock !== this.sock || this.finished) return
    const pairingCode = { code: `${raw.slice(0, 4)}-${raw.slice(4)}`, expiresAt: this.link.expiresAt }
    await this.write((link) =>
      link.status === 'awaiting_scan' ? { from: ['awaiting_scan'], to: 'awaiting_code', patch: { pairingCode } } : { from: ['awaiting_code'], patch: { pairingCode } },
    )
    this.log.info('pairing code issued')
  }

  private async onPaired() {
    this.paired = true
    await this.write((link) => (link.status === 'pairing' ? null : { from: ['awaiting_scan', 'awaiting_code'], to: 'pairing', patch: { qr: null, pairingCode: null } }))
    this.log.info('phone accepted the pairing')
  }

  private async onOpen() {
    await this.credsSaved
    const { me, platform } = this.auth.state.creds
    if (!me) throw new Error('connection opened without an account')
    const { jidDecode } = await loadBaileys()
    if (this.link.status !== 'pairing') await this.onPaired()
    const account = {
      jid: me.id,
      phoneNumber: jidDecode(me.id)?.user ?? '',
      name: me.name && me.name !== '~' ? me.name : (me.verifiedName ?? null),
      platform: platform ?? null,
    }
    const linked = await this.write(() => ({ from: ['pairing'], to: 'linked', patch: { account, qr: null, pairingCode: null, error: null } }))
    this.log.info({ jid: account.jid }, linked ? 'linked' : 'opened, but the link was no longer ours')
    await this.finish({ status: linked ? 'linked' : this.link.status })
  }

  private async onClose(error: unknown) {
    const closed = closeReason(error)
    const verdict = judgeClose(closed)
    this.log.info({ statusCode: closed.statusCode, verdict: verdict.kind }, 'socket closed')
    switch (verdict.kind) {
      case 'restart':
        return this.connect()
      case 'logged_out':
        return this.end('failed', linkEnding('logged_out'))
      case 'replaced':
        return this.end('failed', linkEnding('replaced'))
      case 'qr_exhausted':
        return this.end('expired', linkEnding('qr_exhausted'))
      case 'version_rejected': {
        // The version may have gone stale since it was read: read it once more and try again.
        if (this.versionRefreshed) return this.end('failed', linkEnding('version_rejected'))
        this.versionRefreshed = true
        await this.deps.waVersion.refresh()
        return this.connect()
      }
      case 'retry': {
        if (++this.reconnects > this.deps.settings.maxReconnects) {
          return this.end('failed', linkEnding('connection_lost', `Lost it ${this.reconnects - 1} times in a row; last: ${verdict.reason}`))
        }
        await sleep(Math.min(8000, 250 * 2 ** this.reconnects))
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
    const creds = this.auth.state.creds
    if (creds.me) {
      creds.me = undefined
      creds.pairingCode = undefined
      await this.auth.saveCreds()
    }
    if (this.codeRequested) {
      this.codeRequested = false
      await this.write((link) => (link.pairingCode ? { from: ['awaiting_code'], patch: { pairingCode: null } } : null))
    }
  }

  private async heartbeat() {
    if (this.finished) return
    await this.deps.store.heartbeat(this.deps.settings.linkId, { fence: this.fence })
  }

  /** Notices a cancel (or a switch to a pairing code) made through the API. */
  private async watch() {
    if (this.finished) return
    const current = await this.deps.store.get(this.deps.settings.linkId)
    if (this.finished) return
    if (!current || current.leaseToken !== this.fence || !isInProgress(current.status)) return this.letGo(current)
    if (current.version > this.link.version) this.link = current
    if (Date.now() >= Date.parse(current.expiresAt)) return this.end('expired', DEADLINE_ERROR)
    if (current.method === 'code') await this.requestPairingCode()
  }

  /** Someone else decided the link (a cancel, the sweeper, a newer worker): stop without writing. */
  private async letGo(current: Link | null) {
    this.log.info({ status: current?.status ?? 'deleted', leaseLost: current ? current.leaseToken !== this.fence : true }, 'link no longer ours')
    if (current) this.link = current
    await this.finish({ status: current?.status ?? 'cancelled', note: 'let_go' })
  }

  /** The final write, then the end of the session. */
  private async end(to: LinkStatus, error: LinkError | null) {
    if (this.finished) return
    const written = await this.write(() => ({ from: IN_PROGRESS_STATUSES.filter((s) => canTransition(s, to)), to, patch: { qr: null, pairingCode: null, error } }))
    if (written) this.log.info({ status: to, code: error?.code }, 'link ended')
    await this.finish({ status: this.link.status })
  }

  private async finish(outcome: SessionOutcome) {
    if (this.finished) return
    this.finished = true
    for (const timer of this.timers) clearTimeout(timer)
    this.socketGeneration++
    this.sock?.end(undefined)
    this.sock = null
    await this.credsSaved
    await this.writes.catch(() => undefined)
    // Keys of a link that will never be linked are worthless and still secret: erase them.
    // A newer worker holding the lease still needs them, so only when the link is over.
    if (this.auth && !isInProgress(this.link.status) && this.link.status !== 'linked') await this.auth.clear()
    this.resolveOutcome(outcome)
  }

  private crash(error: unknown) {
    this.log.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'session crashed')
    void this.end('failed', linkEnding('worker_crashed'))
  }

  /**
   * Every link write goes through here: one at a time, in order, fenced by the lease. A write that
   * finds the link decided by someone else lets go of the link instead.
   */
  private write(plan: (link: Link) => Omit<LinkUpdate, 'fence'> | null): Promise<Link | null> {
    const next = this.writes.then(async () => {
      const update = plan(this.link)
      if (!update) return this.link
      try {
        this.link = await this.deps.store.update(this.deps.settings.linkId, { ...update, fence: this.fence })
        return this.link
      } catch (error) {
        if (!(error instanceof StaleLinkError)) throw error
        this.link = error.current
        if (!this.finished && (error.current.leaseToken !== this.fence || !isInProgress(error.current.status))) void this.letGo(error.current)
        return null
      }
    })
    this.writes = next.catch(() => undefined)
    return next
  }
}
