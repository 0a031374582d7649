// Test helper: one simulator per describe block, and every client a test opened ended after it.
import { afterEach, beforeAll } from 'vitest'
import { startSimulator, type WaSimulator } from './server.ts'
import type { SimOptions } from './types.ts'
import type { TestClient } from './test-client.ts'

export function simSuite(options?: SimOptions): { sim: WaSimulator; track: (client: TestClient) => TestClient } {
  let current: WaSimulator | undefined
  let clients: TestClient[] = []
  beforeAll(async () => {
    current = await startSimulator(options)
    return () => current!.close()
  })
  afterEach(() => {
    for (const client of clients) client.end()
    clients = []
  })
  // The simulator exists only once beforeAll ran; tests use it through this stand-in meanwhile.
  const sim = new Proxy({} as WaSimulator, {
    get(_, property) {
      if (!current) throw new Error('the simulator is not started yet (use it inside a test)')
      const value = Reflect.get(current, property)
      return typeof value === 'function' ? value.bind(current) : value
    },
  })
  return { sim, track: (client) => (clients.push(client), client) }
}
