// The simulated primary phone: owns the account identity key and links companions by signing
// their identity key into pair-success, the way WhatsApp's phone app does
// (checked by Baileys in Utils/validate-connection.js configureSuccessfulPairing).
import { Curve, getBinaryNodeChild, hmacSign, jidEncode, proto, S_WHATSAPP_NET, WA_ADV_ACCOUNT_SIG_PREFIX, type BinaryNode } from 'baileys'
import type { KeyPair } from './types.ts'

export const DEFAULT_PHONE_NUMBER = '15550001234'
export const DEFAULT_PHONE_NAME = 'Sim Phone'
export const DEFAULT_PHONE_PLATFORM = 'android'

export interface LinkedDeviceAddress {
  jid: string
  lid: string
  keyIndex: number
}

export class SimPhone {
  /** Account key: signs companions (accountSignatureKey) and is the primary identity key. */
  readonly identityKey: KeyPair = Curve.generateKeyPair()
  private nextKeyIndex = 1

  constructor(
    readonly phoneNumber: string,
    public name: string,
    public platform: string,
  ) {}

  /** A stable, phone-derived LID user so tests can predict it. */
  get lidUser(): string {
    return (BigInt(this.phoneNumber) + 200_000_000_000_000n).toString()
  }

  /** Companion slots are numbered from 1 (0 is the phone itself) and never reused. */
  allocateDevice(): LinkedDeviceAddress {
    const keyIndex = this.nextKeyIndex++
    return {
      jid: jidEncode(this.phoneNumber, 's.whatsapp.net', keyIndex),
      lid: jidEncode(this.lidUser, 'lid', keyIndex),
      keyIndex,
    }
  }

  /** The <iq><pair-success> stanza that links a companion. */
  buildPairSuccess(device: LinkedDeviceAddress, companionIdentityKey: Uint8Array, advSecretB64: string): BinaryNode {
    return {
      tag: 'iq',
      attrs: { from: S_WHATSAPP_NET, type: 'set', xmlns: 'md', t: String(Math.floor(Date.now() / 1000)) },
      content: [
        {
          tag: 'pair-success',
          attrs: {},
          content: [
            { tag: 'device-identity', attrs: {}, content: this.signDeviceIdentity(device.keyIndex, companionIdentityKey, advSecretB64) },
            { tag: 'platform', attrs: { name: this.platform } },
            { tag: 'device', attrs: { jid: device.jid, lid: device.lid } },
          ],
        },
      ],
    }
  }

  /**
   * Checks the companion's pair-device-sign answer: it must echo our key index and carry its
   * own device signature over the identity we issued.
   */
  checkPairDeviceSign(answer: BinaryNode, keyIndex: number): void {
    if (answer.attrs.type !== 'result') throw new Error(`pair-success refused by client (${answer.attrs.type})`)
    const identityNode = getBinaryNodeChild(getBinaryNodeChild(answer, 'pair-device-sign'), 'device-identity')
    if (!identityNode || !(identityNode.content instanceof Uint8Array)) throw new Error('pair-device-sign missing device-identity')
    if (identityNode.attrs['key-index'] !== String(keyIndex)) throw new Error('pair-device-sign has the wrong key-index')
    const signed = proto.ADVSignedDeviceIdentity.decode(identityNode.content)
    if (signed.deviceSignature?.length !== 64) throw new Error('pair-device-sign carries no device signature')
  }

  private signDeviceIdentity(keyIndex: number, companionIdentityKey: Uint8Array, advSecretB64: string): Uint8Array {
    const deviceDetails = proto.ADVDeviceIdentity.encode({
      rawId: Math.floor(Math.random() * 0xffffffff),
      timestamp: Math.floor(Date.now() / 1000),
      keyIndex,
    }).finish()
    const accountSignature = Curve.sign(
      this.identityKey.private,
      Buffer.concat([WA_ADV_ACCOUNT_SIG_PREFIX, deviceDetails, companionIdentityKey]),
    )
    const details = proto.ADVSignedDeviceIdentity.encode({
      details: deviceDetails,
      accountSignatureKey: this.identityKey.public,
      accountSignature,
    }).finish()
    // The HMAC under the adv secret proves the signer saw the companion's QR (or matched code).
    const hmac = hmacSign(details, Buffer.from(advSecretB64, 'base64'))
    return proto.ADVSignedDeviceIdentityHMAC.encode({ details, hmac }).finish()
  }
}
