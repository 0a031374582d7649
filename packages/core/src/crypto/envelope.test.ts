import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { open, seal } from './envelope.ts'

describe('envelope (AES-256-GCM)', () => {
  const key = randomBytes(32)

  it('round-trips, with a fresh IV each time', () => {
    const plaintext = Buffer.from('the noise key is secret')
    const a = seal(plaintext, key, 'lnk_1/creds')
    const b = seal(plaintext, key, 'lnk_1/creds')
    expect(a).not.toBe(b)
    expect(open(a, key, 'lnk_1/creds')).toEqual(plaintext)
    expect(open(seal(Buffer.alloc(0), key, ''), key, '')).toEqual(Buffer.alloc(0))
  })

  it('is compact base64 of version ‖ iv ‖ tag ‖ ciphertext', () => {
    const bytes = Buffer.from(seal(Buffer.alloc(10), key, 'x'), 'base64')
    expect(bytes[0]).toBe(1)
    expect(bytes.length).toBe(1 + 12 + 16 + 10)
  })

  it('refuses a flipped byte anywhere, a wrong AAD and a wrong key', () => {
    const sealed = seal(Buffer.from('secret'), key, 'lnk_1/creds')
    const bytes = Buffer.from(sealed, 'base64')
    for (let i = 1; i < bytes.length; i++) {
      const tampered = Buffer.from(bytes)
      tampered[i] ^= 0x01
      expect(() => open(tampered.toString('base64'), key, 'lnk_1/creds')).toThrow(/authentication/)
    }
    expect(() => open(sealed, key, 'lnk_2/creds')).toThrow(/authentication/)
    expect(() => open(sealed, randomBytes(32), 'lnk_1/creds')).toThrow(/authentication/)
    expect(() => open(sealed.slice(0, 20), key, 'lnk_1/creds')).toThrow()
  })

  it('wants a 32-byte key', () => {
    expect(() => seal(Buffer.from('x'), randomBytes(16), 'a')).toThrow(/32-byte/)
  })
})
