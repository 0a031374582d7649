import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { LocalKeyProvider } from './key-provider.ts'

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
