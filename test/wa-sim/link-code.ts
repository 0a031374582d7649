// Crypto of "link with phone number" (pairing code), phone side. Mirrors Baileys'
// requestPairingCode (Socket/socket.js) and the link_code_companion_reg notification handler
// (Socket/messages-recv.js). Ephemeral keys travel wrapped as salt32 ‖ iv16 ‖ AES-256-CTR under
// PBKDF2(code); CTR has no integrity, so a wrong code silently yields a garbage key and the
// failure only shows when the GCM key bundle in companion_finish does not open.
import { randomBytes } from 'node:crypto'
import { aesDecryptCTR, aesDecryptGCM, aesEncryptCTR, derivePairingCodeKey, hkdf } from 'baileys'

const SALT_BYTES = 32
const CTR_IV_BYTES = 16
const GCM_IV_BYTES = 12
const KEY_BYTES = 32

/** Pairing codes are shown as "ABCD-EFGH"; users may type either form, any case. */
export function normalizePairingCode(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase()
}

export async function wrapEphemeralKey(code: string, publicKey: Uint8Array): Promise<Buffer> {
  const salt = randomBytes(SALT_BYTES)
  const iv = randomBytes(CTR_IV_BYTES)
  const key = await derivePairingCodeKey(code, salt)
  return Buffer.concat([salt, iv, aesEncryptCTR(publicKey, key, iv)])
}

export async function unwrapEphemeralKey(code: string, wrapped: Uint8Array): Promise<Buffer> {
  const data = Buffer.from(wrapped)
  const salt = data.subarray(0, SALT_BYTES)
  const iv = data.subarray(SALT_BYTES, SALT_BYTES + CTR_IV_BYTES)
  const ciphertext = data.subarray(SALT_BYTES + CTR_IV_BYTES, SALT_BYTES + CTR_IV_BYTES + KEY_BYTES)
  const key = await derivePairingCodeKey(code, salt)
  return aesDecryptCTR(ciphertext, key, iv)
}

export interface KeyBundle {
  companionIdentityKey: Buffer
  primaryIdentityKey: Buffer
  random: Buffer
}

/** Opens companion_finish's wrapped key bundle; throws (GCM auth failure) if the codes differed. */
export function openKeyBundle(ephemeralSharedKey: Uint8Array, wrappedBundle: Uint8Array): KeyBundle {
  const data = Buffer.from(wrappedBundle)
  const salt = data.subarray(0, SALT_BYTES)
  const iv = data.subarray(SALT_BYTES, SALT_BYTES + GCM_IV_BYTES)
  const key = Buffer.from(
    hkdf(Buffer.from(ephemeralSharedKey), KEY_BYTES, { salt, info: 'link_code_pairing_key_bundle_encryption_key' }),
  )
  const plain = aesDecryptGCM(data.subarray(SALT_BYTES + GCM_IV_BYTES), key, iv, Buffer.alloc(0))
  return {
    companionIdentityKey: plain.subarray(0, 32),
    primaryIdentityKey: plain.subarray(32, 64),
    random: plain.subarray(64, 96),
  }
}

/** The adv secret both sides derive; it authenticates pair-success like the QR's secret does. */
export function deriveAdvSecret(ephemeralSharedKey: Uint8Array, identitySharedKey: Uint8Array, random: Uint8Array): string {
  const material = Buffer.concat([ephemeralSharedKey, identitySharedKey, random])
  return Buffer.from(hkdf(material, KEY_BYTES, { info: 'adv_secret' })).toString('base64')
}
