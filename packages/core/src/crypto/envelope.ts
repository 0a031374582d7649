import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/**
 * AES-256-GCM sealing of one value. The output is a single base64 string so it fits in one
 * DynamoDB string attribute: version(1) ‖ iv(12) ‖ tag(16) ‖ ciphertext.
 *
 * The AAD names the place the value belongs to (e.g. `${linkId}/${itemName}`): GCM refuses to
 * open a ciphertext under any other AAD, so sealed values cannot be swapped between items.
 */

const VERSION = 1
const IV_BYTES = 12
const TAG_BYTES = 16
/** AES-256: every data key and local master key is this long. */
export const KEY_BYTES = 32
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'EnvelopeError'
  }
}

function assertKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new EnvelopeError(`AES-256-GCM needs a ${KEY_BYTES}-byte key, got ${key.length} bytes.`)
}

export function seal(plaintext: Buffer, key: Buffer, aad: string): string {
  assertKey(key)
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.from(aad, 'utf8'))
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), ciphertext]).toString('base64')
}

export function open(sealed: string, key: Buffer, aad: string): Buffer {
  assertKey(key)
  const bytes = Buffer.from(sealed, 'base64')
  if (bytes.length < HEADER_BYTES) throw new EnvelopeError('Sealed value is truncated.')
  if (bytes[0] !== VERSION) throw new EnvelopeError(`Unknown envelope version ${bytes[0]}.`)
  const iv = bytes.subarray(1, 1 + IV_BYTES)
  const tag = bytes.subarray(1 + IV_BYTES, HEADER_BYTES)
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
  decipher.setAAD(Buffer.from(aad, 'utf8'))
  decipher.setAuthTag(tag)
  try {
    return Buffer.concat([decipher.update(bytes.subarray(HEADER_BYTES)), decipher.final()])
  } catch {
    // Node's message ("Unsupported state or unable to authenticate data") hides the likely causes.
    throw new EnvelopeError('Sealed value failed authentication: wrong key, wrong AAD or tampered data.')
  }
}
