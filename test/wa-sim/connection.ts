// One client socket as the server sees it: framing + noise + binary nodes. It knows nothing
// about pairing or accounts; server.ts decides what to do with the handshake and stanzas.
import { EventEmitter } from 'node:events'
import { decodeBinaryNode, encodeBinaryNode, S_WHATSAPP_NET, type BinaryNode } from 'baileys'
import type { WebSocket } from 'ws'
import { ClientFrameReader, encodeServerFrame } from './framing.ts'
import { ServerNoiseSession, type ClientFinish } from './noise.ts'
import type { ConnectionKind, KeyPair, SimConnectionInfo } from './types.ts'

const CLIENT_IQ_TIMEOUT_MS = 15_000

interface PendingClientIq {
  resolve(node: BinaryNode): void
  reject(error: Error): void
  timer: NodeJS.Timeout
}

export interface SimConnectionEvents {
  /** The noise handshake finished; the payload says registration or login. */
  handshake: [ClientFinish]
  /** A decoded stanza that is not the answer to a server iq. */
  stanza: [BinaryNode]
  close: []
}

export class SimConnection extends EventEmitter<SimConnectionEvents> {
  kind: ConnectionKind = 'handshake'
  /** Device jid once a login payload named one. */
  jid?: string
  loggedIn = false
  /** Refs offered in pair-device (registration connections). */
  refs: string[] = []
  /** Client keys from the handshake, used to check a scanned QR belongs here. */
  clientStaticKey?: Buffer
  clientIdentityKey?: Buffer
  /** Set once a pairing completed on this socket, so a second scan cannot reuse it. */
  paired = false

  private readonly frames = new ClientFrameReader()
  private readonly noise: ServerNoiseSession
  private readonly pendingClientIqs = new Map<string, PendingClientIq>()
  private handshakeStep: 'hello' | 'finish' | 'done' = 'hello'
  /** Decoding is async; chaining keeps stanzas in arrival order. */
  private inbound: Promise<void> = Promise.resolve()
  private nextServerIqId = 1
  private isClosed = false

  constructor(
    readonly id: number,
    private readonly ws: WebSocket,
    staticKey: KeyPair,
    certChain: Uint8Array,
    private readonly responseDelayMs: () => number,
  ) {
    super()
    this.noise = new ServerNoiseSession(staticKey, certChain)
    ws.on('message', data => this.onBytes(data as Buffer))
    ws.on('close', () => this.onClosed())
    ws.on('error', () => this.onClosed())
  }

  get open(): boolean {
    return !this.isClosed
  }

  info(): SimConnectionInfo {
    return { id: this.id, kind: this.kind, jid: this.jid, refs: [...this.refs], open: this.open, loggedIn: this.loggedIn }
  }

  /** Waits the configured response delay (fault injection: slow server). */
  async pause(): Promise<void> {
    const ms = this.responseDelayMs()
    if (ms > 0) await new Promise(resolve => setTimeout(resolve, ms))
  }

  sendNode(node: BinaryNode): void {
    if (this.isClosed) return
    this.ws.send(encodeServerFrame(this.noise.encrypt(encodeBinaryNode(node))))
  }

  /** Answers a client iq (after the response delay). */
  async reply(request: BinaryNode, content?: BinaryNode[], type: 'result' | 'error' = 'result'): Promise<void> {
    await this.pause()
    this.sendNode({ tag: 'iq', attrs: { from: S_WHATSAPP_NET, type, id: request.attrs.id! }, content })
  }

  /** Sends a server-initiated iq and resolves with the client's result. */
  queryClient(node: BinaryNode, timeoutMs = CLIENT_IQ_TIMEOUT_MS): Promise<BinaryNode> {
    const id = node.attrs.id ?? `sim-${this.id}-${this.nextServerIqId++}`
    node.attrs.id = id
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingClientIqs.delete(id)
        reject(new Error(`client did not answer iq ${id} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pendingClientIqs.set(id, { resolve, reject, timer })
      this.sendNode(node)
    })
  }

  /** Sends a stream error and closes shortly after, as WhatsApp does. */
  endWithStreamError(content: { code?: string; child?: BinaryNode }): void {
    this.sendNode({
      tag: 'stream:error',
      attrs: content.code ? { code: content.code } : {},
      content: content.child ? [content.child] : undefined,
    })
    this.closeSoon()
  }

  /** Closes after giving the client a moment to read what was just sent. */
  closeSoon(ms = 200): void {
    setTimeout(() => this.ws.close(), ms).unref()
  }

  /** Abrupt drop: destroys the TCP socket without a close frame. */
  terminate(): void {
    this.ws.terminate()
    this.onClosed()
  }

  private onBytes(data: Buffer): void {
    let frames: Buffer[]
    try {
      frames = this.frames.push(data)
    } catch {
      this.terminate()
      return
    }
    for (const frame of frames) {
      this.inbound = this.inbound.then(() => this.onFrame(frame)).catch(() => this.terminate())
    }
  }

  private async onFrame(frame: Buffer): Promise<void> {
    if (this.isClosed) return
    switch (this.handshakeStep) {
      case 'hello': {
        this.handshakeStep = 'finish'
        const serverHello = this.noise.answerClientHello(frame)
        await this.pause()
        this.ws.send(encodeServerFrame(serverHello))
        return
      }
      case 'finish': {
        const finish = this.noise.readClientFinish(frame)
        this.handshakeStep = 'done'
        this.clientStaticKey = finish.clientStaticKey
        this.emit('handshake', finish)
        return
      }
      case 'done': {
        const node = await decodeBinaryNode(this.noise.decrypt(frame))
        this.dispatch(node)
      }
    }
  }

  private dispatch(node: BinaryNode): void {
    const id = node.attrs.id
    const pending = node.tag === 'iq' && id ? this.pendingClientIqs.get(id) : undefined
    if (pending && (node.attrs.type === 'result' || node.attrs.type === 'error')) {
      clearTimeout(pending.timer)
      this.pendingClientIqs.delete(id!)
      pending.resolve(node)
      return
    }
    this.emit('stanza', node)
  }

  private onClosed(): void {
    if (this.isClosed) return
    this.isClosed = true
    this.loggedIn = false
    for (const pending of this.pendingClientIqs.values()) {
      clearTimeout(pending.timer)
      pending.reject(new Error('connection closed'))
    }
    this.pendingClientIqs.clear()
    this.emit('close')
  }
}
