import { describe, expect, it } from 'vitest'
import { DEFAULT_PHONE_NUMBER, trustTestRootKeyInThisProcess, WrongPairingCodeError } from './index.ts'
import { simSuite } from './suite.ts'
import { connectClient, type TestClient } from './test-client.ts'

trustTestRootKeyInThisProcess()

describe('wa-sim pairing', () => {
  const { sim, track } = simSuite()

  it('scan → 515 → reconnect with the same auth state → open with the expected jid', async () => {
    const first = track(connectClient(sim))
    const device = await sim.scan(await first.nextQr(), { name: 'Alice' })
    expect(device).toMatchObject({ jid: `${DEFAULT_PHONE_NUMBER}:1@s.whatsapp.net`, name: 'Alice', loggedOut: false })
    await first.waitFor(u => u.isNewLogin === true)
    expect(await first.waitForClose()).toMatchObject({ statusCode: 515 })
    expect(first.auth.creds.me?.id).toBe(device.jid)

    const second = track(connectClient(sim, first.auth))
    const login = sim.waitForLogin(device.jid)
    await second.waitForOpen(5000)
    expect(await login).toMatchObject({ jid: device.jid })
    expect(second.sock.user?.id).toBe(device.jid)
    expect(second.sock.user?.lid).toBe(device.lid)
    expect(sim.devices.map(d => d.jid)).toContain(device.jid)
  })

  it('links with the right pairing code', async () => {
    const phoneNumber = '15550002222'
    const first = track(connectClient(sim))
    await first.nextQr()
    const code = await first.sock.requestPairingCode(phoneNumber)
    expect(await sim.nextCodeRequest()).toMatchObject({ phoneNumber })
    const paired = new Promise(resolve => sim.on('paired', resolve))
    // Typed the way a person reads it off the screen.
    await sim.enterCode(phoneNumber, `${code.slice(0, 4)}-${code.slice(4)}`.toLowerCase())
    expect(await paired).toMatchObject({ jid: `${phoneNumber}:1@s.whatsapp.net` })
    expect(await first.waitForClose()).toMatchObject({ statusCode: 515 })

    const second = track(connectClient(sim, first.auth))
    await second.waitForOpen(5000)
    expect(second.sock.user?.id).toBe(`${phoneNumber}:1@s.whatsapp.net`)
  })

  it('never links with a wrong pairing code', async () => {
    const phoneNumber = '15550003333'
    const client = track(connectClient(sim))
    await client.nextQr()
    const code = await client.sock.requestPairingCode(phoneNumber)
    await sim.nextCodeRequest()
    const wrong = code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA'
    await expect(sim.enterCode(phoneNumber, wrong)).rejects.toBeInstanceOf(WrongPairingCodeError)
    await new Promise(resolve => setTimeout(resolve, 500))
    expect(client.updates.some(u => u.isNewLogin || u.connection === 'open' || u.connection === 'close')).toBe(false)
    expect(sim.devices.some(d => d.phoneNumber === phoneNumber)).toBe(false)
  })

  it('a reconnect after requesting a code but before pairing is refused with 401 (creds.me is set early)', async () => {
    const first = track(connectClient(sim))
    await first.nextQr()
    await first.sock.requestPairingCode('15550001111')
    await sim.nextCodeRequest()
    first.end()
    await first.waitForClose()
    const again = track(connectClient(sim, first.auth))
    expect(await again.waitForClose()).toEqual({ statusCode: 401, message: 'Connection Failure' })
  })
})
