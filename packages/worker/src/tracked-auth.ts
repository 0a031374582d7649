import type { AuthenticationState } from 'baileys'

export interface AuthStateHandle {
  state: AuthenticationState
  saveCreds(): Promise<void>
  clear(): Promise<void>
}

/**
 * Baileys writes signal keys and creds on its own schedule, even while and after a socket closes.
 * Once the auth state is to be erased, later writes are dropped and the ones in flight (keys and
 * creds alike) are waited for, so none can land after the erase and leave an item behind.
 */
export function trackKeyWrites(handle: AuthStateHandle): AuthStateHandle {
  const inFlight = new Set<Promise<unknown>>()
  let erased = false
  const track = <T>(write: Promise<T>): Promise<T> => {
    inFlight.add(write)
    void write.finally(() => inFlight.delete(write)).catch(() => undefined)
    return write
  }
  const keys: AuthenticationState['keys'] = {
    get: (type, ids) => handle.state.keys.get(type, ids),
    set: (data) => (erased ? Promise.resolve() : track(Promise.resolve(handle.state.keys.set(data)))),
  }
  return {
    state: { creds: handle.state.creds, keys },
    saveCreds: () => (erased ? Promise.resolve() : track(handle.saveCreds())),
    async clear() {
      erased = true
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
      await handle.clear()
    },
  }
}
