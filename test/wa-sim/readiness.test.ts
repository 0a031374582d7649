import { DEFAULT_CONNECTION_CONFIG } from 'baileys'
import { describe, expect, it } from 'vitest'
import { watchPasskeyGate } from '../../packages/worker/src/passkey.ts'
import { PASSKEY_NOTIFICATION_TYPE, PasskeyRequiredError, trustTestRootKeyInThisProcess, type SimVersion } from './index.ts'
import { simSuite } from './suite.ts'
import { connectClient } from './test-client.ts'

trustTestRootKeyInThisProcess()

const bundled = DEFAULT_CONNECTION_CONFIG.version as SimVersion
const newer: SimVersion = [bundled[0], bundled[1], bundled[2] + 1000]

describe('wa-sim: minimum client version', () => {
  const { sim, track } = simSuite()

  it('answers a client older than the minimum with 405 right after the handshake, and accepts a current one', async () => {
    sim.setMinVersion(newer)
    try {
      const rejected: string[] = []
      sim.on('version-rejected', (version: string) => rejected.push(version))
      const stale = track(connectClient(sim))
      expect(await stale.waitForClose()).toEqual({ statusCode: 405, message: 'Connection Failure' })
      expect(stale.updates.some((u) => u.qr)).toBe(false)
      expect(rejected).toEqual([bundled.join('.')])

      const current = track(connectClient(sim, undefined, { version: newer }))
      expect(await current.nextQr()).toMatch(/^https:\/\/wa\.me\/settings\/linked_devices#/)
    } finally {
      sim.setMinVersion(null)
    }
  })
})

describe('wa-sim: an account that requires a passkey', () => {
  const { sim, track } = simSuite()

  it('QR: the scan ends in a passkey_prologue_request notification instead of a pairing', async () => {
    const phoneNumber = '15550008881'
    sim.requirePasskey(phoneNumber)
    const client = track(connectClient(sim))
    const gates: string[] = []
    watchPasskeyGate(client.sock, (type) => gates.push(type))
    let paired = false
    sim.on('paired', () => (paired = true))
    await expect(sim.scan(await client.nextQr(), { phoneNumber })).rejects.toBeInstanceOf(PasskeyRequiredError)
    await expect.poll(() => gates).toEqual([PASSKEY_NOTIFICATION_TYPE])
    // Baileys itself acks and drops it: without the watcher nothing would ever happen.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(paired).toBe(false)
    expect(client.updates.some((u) => u.isNewLogin || u.connection === 'open' || u.connection === 'close')).toBe(false)
  })

  it('pairing code: entering the right code ends the same way', async () => {
    const phoneNumber = '15550008882'
    sim.requirePasskey(phoneNumber)
    const client = track(connectClient(sim))
    const gates: string[] = []
    const unsubscribe = watchPasskeyGate(client.sock, (type) => gates.push(type))
    await client.nextQr()
    const code = await client.sock.requestPairingCode(phoneNumber)
    await sim.nextCodeRequest()
    await expect(sim.enterCode(phoneNumber, code)).rejects.toBeInstanceOf(PasskeyRequiredError)
    await expect.poll(() => gates).toEqual([PASSKEY_NOTIFICATION_TYPE])
    unsubscribe()
    expect(sim.devices.some((d) => d.phoneNumber === phoneNumber)).toBe(false)
  })

  it('other accounts still link, and the switch can be turned off', async () => {
    sim.requirePasskey('15550008883')
    sim.requirePasskey('15550008883', false)
    const client = track(connectClient(sim))
    await expect(sim.scan(await client.nextQr(), { phoneNumber: '15550008883' })).resolves.toMatchObject({ phoneNumber: '15550008883' })
  })
})
