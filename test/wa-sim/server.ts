// The simulator: a WebSocket server on 127.0.0.1 speaking WhatsApp's protocol to plain Baileys,
// plus the simulated phone's actions (scan, enter code) and fault injection.
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import {
  Curve,
  getBinaryNodeChild,
  getBinaryNodeChildBuffer,
  jidDecode,
  jidEncode,
  S_WHATSAPP_NET,
  type BinaryNode,
} from 'baileys'
import { WebSocketServer } from 'ws'
import { AsyncQueue } from './async-queue.ts'
import { buildCertChain } from './certificates.ts'
import { SimConnection } from './connection.ts'
import { DeviceRegistry, normalizePhoneNumber } from './device-registry.ts'
import { deriveAdvSecret, normalizePairingCode, openKeyBundle, unwrapEphemeralKey, wrapEphemeralKey } from './link-code.ts'
import type { SimPhone } from './phone.ts'
import type { ClientFinish } from './noise.ts'
import { parsePairingQr } from './qr.ts'
import { answerRoutineQuery } from './query-responder.ts'
import type { CodeRequest, KeyPair, PhoneProfile, SimConnectionInfo, SimDevice, SimEvent, SimOptions, SimVersion } from './types.ts'

const DEFAULT_REFS = 6
const DEFAULT_WAIT_MS = 10_000
/** How long the phone waits for companion_finish after sending its hello. */
const COMPANION_FINISH_TIMEOUT_MS = 15_000

/** enterCode with a code that does not match the one the companion showed. */
export class WrongPairingCodeError extends Error {
  constructor(phoneNumber: string) {
    super(`pairing code for ${phoneNumber} did not match: the companion's key bundle does not open`)
    this.name = 'WrongPairingCodeError'
  }
}

/**
 * The phone's account must confirm new devices with a passkey: instead of completing the pairing,
 * WhatsApp sends the companion a passkey_prologue_request notification (which it cannot answer).
 */
export class PasskeyRequiredError extends Error {
  constructor(phoneNumber: string) {
    super(`the account ${phoneNumber} requires a passkey to link a new device`)
    this.name = 'PasskeyRequiredError'
  }
}

/** What WhatsApp sends a companion when the account must confirm it with a passkey. */
export const PASSKEY_NOTIFICATION_TYPE = 'passkey_prologue_request'

/** A companion_hello waiting for the user to type the code on the phone. */
interface PendingCodeRequest {
  phoneNumber: string
  connection: SimConnection
  /** link_code_pairing_ref the server issued for this request. */
  ref: string
  wrappedCompanionEphemeral: Buffer
  /** Set while enterCode waits for the client's companion_finish. */
  onCompanionFinish?: (iq: BinaryNode) => void
}

export interface WaSimulator {
  /** ws://127.0.0.1:PORT/ws/chat — pass as makeWASocket({ waWebSocketUrl }). */
  readonly url: string
  readonly port: number
  /**
   * The first ref of the next pair-device stanza sent (queued: refs sent before the call are
   * not missed). The QR string itself is built by the client from its own adv secret, which the
   * server never sees, so take the QR from Baileys' `connection.update {qr}` and pass it to scan().
   */
  nextRef(opts?: { timeoutMs?: number }): Promise<string>
  /** Links the companion showing this QR; resolves once its pair-device-sign was accepted. */
  scan(qr: string, phone?: PhoneProfile): Promise<SimDevice>
  /** The next companion_hello (queued like nextRef). */
  nextCodeRequest(opts?: { timeoutMs?: number }): Promise<CodeRequest>
  /** Types the code on the phone; resolves once paired, rejects with WrongPairingCodeError on a mismatch. */
  enterCode(phoneNumber: string, code: string): Promise<void>
  readonly devices: SimDevice[]
  connections(): SimConnectionInfo[]
  openConnections(): number
  waitForLogin(jid?: string, opts?: { timeoutMs?: number }): Promise<SimDevice>
  logout(jid: string): void
  replace(jid: string): void
  dropAll(): void
  setResponseDelay(ms: number): void
  /** Refuse clients older than this version with 405 (null: accept every version). */
  setMinVersion(version: SimVersion | null): void
  /** This account (phone number) asks for a passkey instead of completing a pairing. */
  requirePasskey(phoneNumber: string, required?: boolean): void
  on(event: SimEvent, fn: (...args: any[]) => void): void
  off(event: SimEvent, fn: (...args: any[]) => void): void
  close(): Promise<void>
}

export async function startSimulator(opts: SimOptions = {}): Promise<WaSimulator> {
  const sim = new Simulator(opts)
  await sim.listen(opts.port ?? 0, opts.host ?? '127.0.0.1')
  return sim
}

class Simulator implements WaSimulator {
  url = ''
  port = 0

  private wss!: WebSocketServer
  private readonly events = new EventEmitter()
  private readonly registry = new DeviceRegistry()
  private readonly live = new Set<SimConnection>()
  private readonly refs = new AsyncQueue<string>()
  private readonly codeRequests = new AsyncQueue<CodeRequest>()
  private readonly pendingCodeRequests: PendingCodeRequest[] = []
  /** The server's static noise key; the test certificate chain vouches for it. */
  private readonly staticKey: KeyPair = Curve.generateKeyPair()
  private readonly certChain = buildCertChain(this.staticKey)
  private readonly refsPerPairDevice: number
  private responseDelayMs: number
  private minVersion: SimVersion | null
  private readonly passkeyAccounts = new Set<string>()
  private nextConnectionId = 1

  constructor(opts: SimOptions) {
    this.refsPerPairDevice = opts.refs ?? DEFAULT_REFS
    this.responseDelayMs = opts.responseDelayMs ?? 0
    this.minVersion = opts.minVersion ?? null
    this.events.setMaxListeners(0)
  }

  async listen(port: number, host: string): Promise<void> {
    const wss = (this.wss = new WebSocketServer({ port, host }))
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve)
      wss.once('error', reject)
    })
    this.port = (wss.address() as AddressInfo).port
    this.url = `ws://${host}:${this.port}/ws/chat`
    wss.on('connection', ws => this.accept(ws))
  }

  // ── public API ─────────────────────────────────────────────────────────────

  get devices(): SimDevice[] {
    return this.registry.list()
  }

  connections(): SimConnectionInfo[] {
    return [...this.live].map(c => c.info())
  }

  openConnections(): number {
    return this.live.size
  }

  nextRef(opts: { timeoutMs?: number } = {}): Promise<string> {
    return this.refs.next(opts.timeoutMs ?? DEFAULT_WAIT_MS, 'a pair-device ref')
  }

  nextCodeRequest(opts: { timeoutMs?: number } = {}): Promise<CodeRequest> {
    return this.codeRequests.next(opts.timeoutMs ?? DEFAULT_WAIT_MS, 'a pairing-code request')
  }

  async scan(qr: string, profile?: PhoneProfile): Promise<SimDevice> {
    const scanned = parsePairingQr(qr)
    const connection = [...this.live].find(c => c.kind === 'registration' && !c.paired && c.refs.includes(scanned.ref))
    if (!connection) throw new Error(`no open connection is showing QR ref ${scanned.ref}`)
    // A real phone sends the QR's keys to the server, which pairs only the socket they belong to.
    if (!connection.clientStaticKey?.equals(scanned.noiseKey) || !connection.clientIdentityKey?.equals(scanned.identityKey)) {
      throw new Error('QR keys do not match the connection that was sent this ref')
    }
    return this.completePairing(connection, this.registry.phone(profile), scanned.identityKey, scanned.advSecretB64)
  }

  async enterCode(phoneNumber: string, code: string): Promise<void> {
    const number = normalizePhoneNumber(phoneNumber)
    const request = this.pendingCodeRequests.findLast(r => r.phoneNumber === number && r.connection.open)
    if (!request) throw new Error(`no companion is waiting for a pairing code for ${number}`)
    const typedCode = normalizePairingCode(code)
    const phone = this.registry.phone({ phoneNumber: number })
    // With a wrong code these are garbage keys; neither side can tell until companion_finish.
    const companionEphemeral = await unwrapEphemeralKey(typedCode, request.wrappedCompanionEphemeral)
    const primaryEphemeral = Curve.generateKeyPair()
    const wrappedPrimaryEphemeral = await wrapEphemeralKey(typedCode, primaryEphemeral.public)

    const finishIq = this.awaitCompanionFinish(request)
    await request.connection.pause()
    request.connection.sendNode({
      tag: 'notification',
      attrs: { from: S_WHATSAPP_NET, type: 'link_code_companion_reg', id: randomId(), t: unixNow() },
      content: [
        {
          tag: 'link_code_companion_reg',
          attrs: {},
          content: [
            { tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(request.ref) },
            { tag: 'primary_identity_pub', attrs: {}, content: Buffer.from(phone.identityKey.public) },
            { tag: 'link_code_pairing_wrapped_primary_ephemeral_pub', attrs: {}, content: wrappedPrimaryEphemeral },
          ],
        },
      ],
    })
    const iq = await finishIq
    const finish = getBinaryNodeChild(iq, 'link_code_companion_reg')
    const wrappedBundle = getBinaryNodeChildBuffer(finish, 'link_code_pairing_wrapped_key_bundle')
    const companionIdentity = Buffer.from(getBinaryNodeChildBuffer(finish, 'companion_identity_public') ?? [])

    let advSecretB64: string
    try {
      if (!wrappedBundle) throw new Error('companion_finish without key bundle')
      const ephemeralShared = Curve.sharedKey(primaryEphemeral.private, companionEphemeral)
      const bundle = openKeyBundle(ephemeralShared, wrappedBundle)
      if (!bundle.companionIdentityKey.equals(companionIdentity) || !bundle.primaryIdentityKey.equals(phone.identityKey.public)) {
        throw new Error('key bundle names other identities')
      }
      const identityShared = Curve.sharedKey(phone.identityKey.private, bundle.companionIdentityKey)
      advSecretB64 = deriveAdvSecret(ephemeralShared, identityShared, bundle.random)
    } catch {
      // The phone shows "incorrect code"; the companion's finish query fails and nothing links.
      await request.connection.reply(iq, [{ tag: 'error', attrs: { code: '400', text: 'bad-request' } }], 'error')
      throw new WrongPairingCodeError(number)
    }
    await request.connection.reply(iq)
    this.pendingCodeRequests.splice(this.pendingCodeRequests.indexOf(request), 1)
    await this.completePairing(request.connection, phone, companionIdentity, advSecretB64)
  }

  async waitForLogin(jid?: string, opts: { timeoutMs?: number } = {}): Promise<SimDevice> {
    const matches = (device: SimDevice) => !jid || device.jid === jid || device.lid === jid
    for (const connection of this.live) {
      const device = connection.loggedIn && connection.jid ? this.registry.find(connection.jid) : undefined
      if (device && matches(device)) return device
    }
    const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS
    return new Promise((resolve, reject) => {
      const onLogin = (device: SimDevice) => {
        if (!matches(device)) return
        clearTimeout(timer)
        this.events.off('login', onLogin)
        resolve(device)
      }
      const timer = setTimeout(() => {
        this.events.off('login', onLogin)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a login${jid ? ` of ${jid}` : ''}`))
      }, timeoutMs)
      this.events.on('login', onLogin)
    })
  }

  logout(jid: string): void {
    const device = this.registry.markLoggedOut(jid)
    if (!device) throw new Error(`unknown device ${jid}`)
    // What WhatsApp sends when the phone removes a linked device; Baileys maps code 401 to loggedOut.
    for (const connection of this.connectionsOf(device)) {
      connection.endWithStreamError({ code: '401', child: { tag: 'conflict', attrs: { type: 'device_removed' } } })
    }
  }

  replace(jid: string): void {
    const device = this.registry.find(jid)
    if (!device) throw new Error(`unknown device ${jid}`)
    // Another client logged in with the same credentials; Baileys maps conflict to 440.
    for (const connection of this.connectionsOf(device)) {
      connection.endWithStreamError({ child: { tag: 'conflict', attrs: { type: 'replaced' } } })
    }
  }

  dropAll(): void {
    for (const connection of [...this.live]) connection.terminate()
  }

  setResponseDelay(ms: number): void {
    this.responseDelayMs = Math.max(0, ms)
  }

  setMinVersion(version: SimVersion | null): void {
    this.minVersion = version
  }

  requirePasskey(phoneNumber: string, required = true): void {
    const number = normalizePhoneNumber(phoneNumber)
    if (required) this.passkeyAccounts.add(number)
    else this.passkeyAccounts.delete(number)
  }

  on(event: SimEvent, fn: (...args: any[]) => void): void {
    this.events.on(event, fn)
  }

  off(event: SimEvent, fn: (...args: any[]) => void): void {
    this.events.off(event, fn)
  }

  async close(): Promise<void> {
    this.dropAll()
    await new Promise<void>(resolve => this.wss.close(() => resolve()))
  }

  // ── connection lifecycle ───────────────────────────────────────────────────

  private accept(ws: import('ws').WebSocket): void {
    const connection = new SimConnection(this.nextConnectionId++, ws, this.staticKey, this.certChain, () => this.responseDelayMs)
    this.live.add(connection)
    connection.on('handshake', finish => this.onHandshake(connection, finish).catch(() => connection.terminate()))
    connection.on('stanza', node => this.onStanza(connection, node).catch(() => connection.terminate()))
    connection.on('close', () => {
      this.live.delete(connection)
      this.events.emit('close', connection.info())
    })
    this.events.emit('connection', connection.info())
  }

  private async onHandshake(connection: SimConnection, { payload }: ClientFinish): Promise<void> {
    const app = payload.userAgent?.appVersion
    const version: SimVersion = [app?.primary ?? 0, app?.secondary ?? 0, app?.tertiary ?? 0]
    if (this.minVersion && compareVersions(version, this.minVersion) < 0) {
      // What WhatsApp answers a client whose version it no longer accepts; Baileys closes with 405.
      await connection.pause()
      connection.sendNode({ tag: 'failure', attrs: { reason: '405', location: 'sim' } })
      connection.closeSoon()
      this.events.emit('version-rejected', version.join('.'), connection.info())
      return
    }
    if (payload.devicePairingData) {
      connection.kind = 'registration'
      connection.clientIdentityKey = Buffer.from(payload.devicePairingData.eIdent ?? [])
      await connection.pause()
      this.sendPairDevice(connection)
      return
    }
    connection.kind = 'login'
    const jid = jidEncode(String(payload.username), 's.whatsapp.net', Number(payload.device) || undefined)
    connection.jid = jid
    const device = this.registry.find(jid)
    await connection.pause()
    if (!device || device.jid !== jid || device.loggedOut) {
      // Unknown or removed companion: WhatsApp refuses the login outright.
      connection.sendNode({ tag: 'failure', attrs: { reason: '401', location: 'sim' } })
      connection.closeSoon()
      return
    }
    const now = unixNow()
    connection.sendNode({
      tag: 'success',
      attrs: { t: now, props: '0', abprops: '0', location: 'sim', creation: now, lid: device.lid ?? '' },
    })
    connection.loggedIn = true
    this.events.emit('login', device, connection.info())
  }

  private sendPairDevice(connection: SimConnection): void {
    const refs = Array.from({ length: this.refsPerPairDevice }, () => `2@${randomBytes(30).toString('base64')}`)
    connection.refs = refs
    connection
      .queryClient({
        tag: 'iq',
        attrs: { from: S_WHATSAPP_NET, type: 'set', xmlns: 'md' },
        content: [{ tag: 'pair-device', attrs: {}, content: refs.map(ref => ({ tag: 'ref', attrs: {}, content: Buffer.from(ref) })) }],
      })
      .catch(() => undefined) // the client acks; nothing depends on it
    this.refs.push(refs[0]!)
    this.events.emit('qr', refs, connection.info())
  }

  private async onStanza(connection: SimConnection, node: BinaryNode): Promise<void> {
    // Acks, receipts, presence and ib telemetry need no answer.
    if (node.tag !== 'iq' || (node.attrs.type !== 'get' && node.attrs.type !== 'set')) return
    if (node.attrs.xmlns === 'md') return this.onDeviceQuery(connection, node)
    await connection.reply(node, answerRoutineQuery(node))
    if (node.attrs.xmlns === 'passive' && getBinaryNodeChild(node, 'active')) {
      // The server then delivers the offline queue; ours is empty.
      connection.sendNode({ tag: 'ib', attrs: { from: S_WHATSAPP_NET }, content: [{ tag: 'offline', attrs: { count: '0' } }] })
    }
  }

  /** xmlns="md": multi-device management (pairing code stages, companion removal). */
  private async onDeviceQuery(connection: SimConnection, iq: BinaryNode): Promise<void> {
    const linkCode = getBinaryNodeChild(iq, 'link_code_companion_reg')
    if (linkCode?.attrs.stage === 'companion_hello') return this.onCompanionHello(connection, iq, linkCode)
    if (linkCode?.attrs.stage === 'companion_finish') {
      const ref = Buffer.from(getBinaryNodeChildBuffer(linkCode, 'link_code_pairing_ref') ?? []).toString()
      const request = this.pendingCodeRequests.find(r => r.ref === ref && r.connection === connection)
      if (request?.onCompanionFinish) return request.onCompanionFinish(iq)
      return connection.reply(iq, [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }], 'error')
    }
    const removal = getBinaryNodeChild(iq, 'remove-companion-device')
    if (removal?.attrs.jid) this.registry.markLoggedOut(removal.attrs.jid)
    await connection.reply(iq)
  }

  private async onCompanionHello(connection: SimConnection, iq: BinaryNode, hello: BinaryNode): Promise<void> {
    const phoneNumber = jidDecode(hello.attrs.jid)?.user ?? ''
    const wrapped = getBinaryNodeChildBuffer(hello, 'link_code_pairing_wrapped_companion_ephemeral_pub')
    if (!phoneNumber || !wrapped) {
      return connection.reply(iq, [{ tag: 'error', attrs: { code: '400', text: 'bad-request' } }], 'error')
    }
    const request: PendingCodeRequest = {
      phoneNumber,
      connection,
      ref: randomBytes(16).toString('base64'),
      wrappedCompanionEphemeral: Buffer.from(wrapped),
    }
    this.pendingCodeRequests.push(request)
    await connection.reply(iq, [
      { tag: 'link_code_companion_reg', attrs: {}, content: [{ tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(request.ref) }] },
    ])
    const codeRequest: CodeRequest = { phoneNumber, connectionId: connection.id }
    this.codeRequests.push(codeRequest)
    this.events.emit('code-request', codeRequest)
  }

  private awaitCompanionFinish(request: PendingCodeRequest): Promise<BinaryNode> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        request.onCompanionFinish = undefined
        reject(new Error(`companion did not send companion_finish within ${COMPANION_FINISH_TIMEOUT_MS} ms`))
      }, COMPANION_FINISH_TIMEOUT_MS)
      request.onCompanionFinish = iq => {
        clearTimeout(timer)
        request.onCompanionFinish = undefined
        resolve(iq)
      }
    })
  }

  /** The phone links the companion: pair-success, its signed answer, then the 515 restart. */
  private async completePairing(connection: SimConnection, phone: SimPhone, companionIdentityKey: Buffer, advSecretB64: string): Promise<SimDevice> {
    if (this.passkeyAccounts.has(phone.phoneNumber)) {
      await connection.pause()
      connection.sendNode({
        tag: 'notification',
        attrs: { from: S_WHATSAPP_NET, type: PASSKEY_NOTIFICATION_TYPE, id: randomId(), t: unixNow() },
        content: [{ tag: PASSKEY_NOTIFICATION_TYPE, attrs: {} }],
      })
      this.events.emit('passkey-request', phone.phoneNumber, connection.info())
      throw new PasskeyRequiredError(phone.phoneNumber)
    }
    connection.paired = true
    try {
      const address = phone.allocateDevice()
      await connection.pause()
      const answer = await connection.queryClient(phone.buildPairSuccess(address, companionIdentityKey, advSecretB64))
      phone.checkPairDeviceSign(answer, address.keyIndex)
      const device = this.registry.add(phone, address.jid, address.lid, companionIdentityKey)
      this.events.emit('paired', device)
      // WhatsApp makes a freshly paired companion reconnect and log in with its new identity.
      connection.endWithStreamError({ code: '515' })
      return device
    } catch (error) {
      connection.paired = false
      throw error
    }
  }

  private connectionsOf(device: SimDevice): SimConnection[] {
    return [...this.live].filter(c => c.jid === device.jid)
  }
}

function compareVersions(a: SimVersion, b: SimVersion): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return 0
}

function unixNow(): string {
  return String(Math.floor(Date.now() / 1000))
}

function randomId(): string {
  return randomBytes(8).toString('hex').toUpperCase()
}
