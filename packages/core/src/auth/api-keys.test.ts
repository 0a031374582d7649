import { describe, expect, it } from 'vitest'
import { deriveApiKey, parseKeyId } from './api-keys.ts'

describe('deriveApiKey', () => {
  it('derives the same well-formed key from the same passphrase, a different one from another', () => {
    const key = deriveApiKey('my local dev passphrase')
    expect(parseKeyId(key)).toMatch(/^[0-9a-z]{16}$/)
    expect(deriveApiKey('my local dev passphrase')).toBe(key)
    expect(deriveApiKey('my local dev passphrasf')).not.toBe(key)
    expect(key).not.toContain('passphrase')
  })

  it('refuses a passphrase shorter than 16 characters', () => {
    expect(() => deriveApiKey('dev')).toThrow(/at least 16 characters/)
  })
})
