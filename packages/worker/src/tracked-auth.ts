import type { AuthenticationState } from 'baileys'
import type { AuthStateHandle } from './link-session.ts'

/**
 * Baileys writes signal keys on its own schedule, even while and after a socket closes. Once the
 * auth state is to be erased, later writes are dropped and the ones in flight are waited for, so
 * none can land after the erase and leave a key behind.
 */
export function trackKeyWrites(handle: AuthStateHandle): AuthStateHandle {
  const inFlight = new Set<Promise<unknown>>()
  let erased = false
  const keys: AuthenticationState['keys'] = {
    get: (type, ids) => handle.state.keys.get(type, ids),
    set: (data) => {
      if (erased) return Promise.resolve()
      const write = Promise.resolve(handle.state.keys.set(data))
      inFlight.add(write)
      void write.finally(() => inFlight.delete(write)).catch(() => undefined)
      return write
    },
  }
  return {
    state: { creds: handle.state.creds, keys },
    saveCreds: () => (erased ? Promise.resolve() : handle.saveCreds()),
    async clear() {
      erased = true
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
      await handle.clear()
    },
  }
}
