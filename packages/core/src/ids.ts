import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz' // Crockford base32, lower case

/** `bytes` of CSPRNG output in Crockford base32 (5 bits a character, so 16 bytes → 26 chars). */
export function randomBase32(bytes: number): string {
  return toBase32(randomBytes(bytes))
}

/** Crockford base32 of `buf`, lower case. */
export function toBase32(buf: Uint8Array): string {
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of buf) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

/** 128 bits of randomness: unguessable, so knowing one link id tells nothing about another. */
export function newLinkId(): string {
  return `lnk_${randomBase32(16)}`
}

export const LINK_ID_PATTERN = /^lnk_[0-9a-hjkmnp-tv-z]{26}$/

export function isLinkId(value: string): boolean {
  return LINK_ID_PATTERN.test(value)
}
