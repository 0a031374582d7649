// Server side of WhatsApp's Noise XX handshake (X25519 / AES-256-GCM / SHA-256), the mirror
// image of Baileys' client in Utils/noise-handler.js:
//   client → e                     (clientHello)
//   server → e, ee, s, es, payload (serverHello; payload = certificate chain)
//   client → s, se, payload        (clientFinish; payload = ClientPayload)
// then both split into transport keys with counter IVs and empty AAD.
import { aesDecryptGCM, aesEncryptGCM, Curve, hkdf, NOISE_MODE, NOISE_WA_HEADER, proto, sha256 } from 'baileys'
import type { KeyPair } from './types.ts'

const IV_BYTES = 12

function counterIv(counter: number): Buffer {
  const iv = Buffer.alloc(IV_BYTES)
  iv.writeUInt32BE(counter, 8)
  return iv
}

function hkdfSplit(inputKeyMaterial: Uint8Array, salt: Uint8Array): [Buffer, Buffer] {
  const expanded = Buffer.from(hkdf(Buffer.from(inputKeyMaterial), 64, { salt: Buffer.from(salt), info: '' }))
  return [expanded.subarray(0, 32), expanded.subarray(32)]
}

export interface ClientFinish {
  /** The client's static noise key (creds.noiseKey.public). */
  clientStaticKey: Buffer
  payload: proto.ClientPayload
}

/** One connection's noise state; handshake first, then transport encryption. */
export class ServerNoiseSession {
  private hash: Buffer
  private chainingKey: Buffer
  private cipherKey: Buffer
  private handshakeCounter = 0
  private readonly ephemeral: KeyPair = Curve.generateKeyPair()
  private clientEphemeral?: Buffer
  private transport?: { encKey: Buffer; decKey: Buffer; readCounter: number; writeCounter: number }

  constructor(
    private readonly staticKey: KeyPair,
    private readonly certChain: Uint8Array,
  ) {
    const mode = Buffer.from(NOISE_MODE)
    this.hash = mode.length === 32 ? mode : sha256(mode)
    this.chainingKey = this.hash
    this.cipherKey = this.hash
    this.mixHash(NOISE_WA_HEADER)
  }

  get isTransportReady(): boolean {
    return this.transport !== undefined
  }

  /** Handles the client's first frame; returns the serverHello frame to send. */
  answerClientHello(frame: Uint8Array): Uint8Array {
    const clientEphemeral = proto.HandshakeMessage.decode(frame).clientHello?.ephemeral
    if (!clientEphemeral?.length) throw new Error('expected clientHello with an ephemeral key')
    this.clientEphemeral = Buffer.from(clientEphemeral)
    this.mixHash(this.clientEphemeral)
    this.mixHash(this.ephemeral.public)
    this.mixKey(Curve.sharedKey(this.ephemeral.private, this.clientEphemeral))
    const encryptedStatic = this.encryptHandshake(this.staticKey.public)
    this.mixKey(Curve.sharedKey(this.staticKey.private, this.clientEphemeral))
    const encryptedCertChain = this.encryptHandshake(this.certChain)
    return proto.HandshakeMessage.encode({
      serverHello: { ephemeral: this.ephemeral.public, static: encryptedStatic, payload: encryptedCertChain },
    }).finish()
  }

  /** Handles clientFinish and switches to transport mode. */
  readClientFinish(frame: Uint8Array): ClientFinish {
    const finish = proto.HandshakeMessage.decode(frame).clientFinish
    if (!finish?.static || !finish.payload) throw new Error('expected clientFinish')
    const clientStaticKey = this.decryptHandshake(finish.static)
    this.mixKey(Curve.sharedKey(this.ephemeral.private, clientStaticKey))
    const payload = proto.ClientPayload.decode(this.decryptHandshake(finish.payload))
    const [clientWrite, clientRead] = hkdfSplit(new Uint8Array(0), this.chainingKey)
    // The client encrypts with its "write" key, so that is what the server decrypts with.
    this.transport = { encKey: clientRead, decKey: clientWrite, readCounter: 0, writeCounter: 0 }
    return { clientStaticKey, payload }
  }

  encrypt(plaintext: Uint8Array): Buffer {
    const t = this.requireTransport()
    return aesEncryptGCM(plaintext, t.encKey, counterIv(t.writeCounter++), Buffer.alloc(0))
  }

  decrypt(ciphertext: Uint8Array): Buffer {
    const t = this.requireTransport()
    return aesDecryptGCM(ciphertext, t.decKey, counterIv(t.readCounter++), Buffer.alloc(0))
  }

  private requireTransport() {
    if (!this.transport) throw new Error('noise handshake not finished')
    return this.transport
  }

  private mixHash(data: Uint8Array): void {
    this.hash = sha256(Buffer.concat([this.hash, data]))
  }

  private mixKey(inputKeyMaterial: Uint8Array): void {
    const [chainingKey, cipherKey] = hkdfSplit(inputKeyMaterial, this.chainingKey)
    this.chainingKey = chainingKey
    this.cipherKey = cipherKey
    this.handshakeCounter = 0
  }

  private encryptHandshake(plaintext: Uint8Array): Buffer {
    const ciphertext = aesEncryptGCM(plaintext, this.cipherKey, counterIv(this.handshakeCounter++), this.hash)
    this.mixHash(ciphertext)
    return ciphertext
  }

  private decryptHandshake(ciphertext: Uint8Array): Buffer {
    const plaintext = aesDecryptGCM(ciphertext, this.cipherKey, counterIv(this.handshakeCounter++), this.hash)
    this.mixHash(ciphertext)
    return plaintext
  }
}
