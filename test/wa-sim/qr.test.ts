import { describe, expect, it } from 'vitest'
import { startSimulator, trustTestRootKeyInThisProcess } from './index.ts'
import { simSuite } from './suite.ts'
import { connectClient, type TestClient } from './test-client.ts'

trustTestRootKeyInThisProcess()

const refOf = (qr: string) => qr.split('#')[1]!.split(',')[0]!

describe('wa-sim QR flow', () => {
  const { sim, track } = simSuite()

  it('shows the first QR within 1 s', async () => {
    const started = Date.now()
    const client = track(connectClient(sim))
    const qr = await client.nextQr(1000)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(qr).toMatch(/^https:\/\/wa\.me\/settings\/linked_devices#2@/)
    expect(refOf(qr)).toBe(await sim.nextRef())
  })

  it('rotates through the refs the server sent under a short qrTimeout', async () => {
    const client = track(connectClient(sim, undefined, { qrTimeout: 150 }))
    const firstRef = await sim.nextRef()
    const refs = sim.connections().find(c => c.refs[0] === firstRef)!.refs
    const first = await client.nextQr()
    const second = await client.nextQr(2000)
    expect(second).not.toBe(first)
    expect([refOf(first), refOf(second)]).toEqual(refs.slice(0, 2))
  })

  it("closes with 408 'QR refs attempts ended' when the refs run out", async () => {
    const few = await startSimulator({ refs: 2 })
    try {
      const client = track(connectClient(few, undefined, { qrTimeout: 100 }))
      const closed = await client.waitForClose(3000)
      expect(closed).toEqual({ statusCode: 408, message: 'QR refs attempts ended' })
      expect(client.updates.filter(u => u.qr)).toHaveLength(2)
    } finally {
      await few.close()
    }
  })
})
