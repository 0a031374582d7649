import { describe, expect, it } from 'vitest'
import type { AuthenticationState } from 'baileys'
import { trackKeyWrites, type AuthStateHandle } from './tracked-auth.ts'

/** An auth state whose writes take a while, recording what is stored in which order. */
function slowAuthState() {
  const stored = new Set<string>()
  const log: string[] = []
  const later = (ms: number, what: () => void) => new Promise<void>((r) => setTimeout(() => (what(), r()), ms))
  const handle: AuthStateHandle = {
    state: {
      creds: {} as AuthenticationState['creds'],
      keys: {
        get: async () => ({}),
        set: (data) => later(30, () => Object.keys(data).forEach((k) => (stored.add(`key:${k}`), log.push(`set ${k}`)))),
      },
    },
    saveCreds: () => later(30, () => (stored.add('creds'), log.push('save creds'))),
    clear: async () => {
      stored.clear()
      log.push('clear')
    },
  }
  return { handle, stored, log }
}

describe('trackKeyWrites', () => {
  it('a creds save in flight when the erase starts lands before it, never after', async () => {
    const { handle, stored, log } = slowAuthState()
    const tracked = trackKeyWrites(handle)
    const saving = tracked.saveCreds()
    await tracked.clear()
    await saving
    expect(log).toEqual(['save creds', 'clear'])
    expect(stored.size).toBe(0)
  })

  it('key writes in flight are waited for too, and every write after the erase is dropped', async () => {
    const { handle, stored, log } = slowAuthState()
    const tracked = trackKeyWrites(handle)
    void tracked.state.keys.set({ 'pre-key': { '1': null } } as never)
    await tracked.clear()
    await tracked.saveCreds()
    await tracked.state.keys.set({ session: { a: null } } as never)
    await new Promise((r) => setTimeout(r, 50))
    expect(log).toEqual(['set pre-key', 'clear'])
    expect(stored.size).toBe(0)
  })
})
