import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { LocalKeyProvider, open, seal } from '@wa-link-broker/core'

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

describe('LocalKeyProvider', () => {
  it('uses DATA_KEY and binds the wrapped key to its context', async () => {
    const master = randomBytes(32)
    const provider = LocalKeyProvider.fromEnv({ DATA_KEY: master.toString('base64') })
    const { plaintext, wrapped } = await provider.generateDataKey({ linkId: 'lnk_1' })
    expect(plaintext.length).toBe(32)
    expect(wrapped).not.toContain(plaintext.toString('base64'))
    // Another provider with the same master key unwraps it; context order does not matter.
    const again = new LocalKeyProvider(master)
    expect(await again.decryptDataKey(wrapped, { linkId: 'lnk_1' })).toEqual(plaintext)
    await expect(again.decryptDataKey(wrapped, { linkId: 'lnk_2' })).rejects.toThrow()
    await expect(new LocalKeyProvider(randomBytes(32)).decryptDataKey(wrapped, { linkId: 'lnk_1' })).rejects.toThrow()
    const multi = await provider.generateDataKey({ a: '1', b: '2' })
    expect(await provider.decryptDataKey(multi.wrapped, { b: '2', a: '1' })).toEqual(multi.plaintext)
  })

  it('creates an owner-only key file when missing and reuses it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'keyfile-'))
    const first = LocalKeyProvider.fromEnv({}, cwd)
    const path = join(cwd, '.data/data-key')
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64').length).toBe(32)
    const { plaintext, wrapped } = await first.generateDataKey({ linkId: 'lnk_1' })
    const second = LocalKeyProvider.fromEnv({}, cwd)
    expect(await second.decryptDataKey(wrapped, { linkId: 'lnk_1' })).toEqual(plaintext)
  })

  it('honours DATA_KEY_FILE', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'keyfile-'))
    LocalKeyProvider.fromEnv({ DATA_KEY_FILE: 'secrets/k' }, cwd)
    expect(statSync(join(cwd, 'secrets/k')).mode & 0o777).toBe(0o600)
  })

  it('rejects a DATA_KEY that is not 32 bytes, without echoing it', () => {
    const bad = randomBytes(16).toString('base64')
    expect(() => LocalKeyProvider.fromEnv({ DATA_KEY: bad })).toThrow(/DATA_KEY must be .* 32 bytes, got 16/)
    try {
      LocalKeyProvider.fromEnv({ DATA_KEY: bad })
    } catch (error) {
      expect((error as Error).message).not.toContain(bad)
    }
  })
})
