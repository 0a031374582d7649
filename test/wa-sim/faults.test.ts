import { describe, expect, it } from 'vitest'
import { trustTestRootKeyInThisProcess } from './index.ts'
import { simSuite } from './suite.ts'
import { connectClient, pairByQr, type TestClient } from './test-client.ts'

trustTestRootKeyInThisProcess()

describe('wa-sim fault injection', () => {
  const { sim, track } = simSuite()

  it('logout → 401, and the next login of that device is refused with 401', async () => {
    const { client, jid } = await pairByQr(sim, '15550004444')
    track(client)
    sim.logout(jid)
    expect(await client.waitForClose()).toMatchObject({ statusCode: 401 })
    expect(sim.devices.find(d => d.jid === jid)?.loggedOut).toBe(true)

    let loggedIn = false
    sim.on('login', () => (loggedIn = true))
    const again = track(connectClient(sim, client.auth))
    expect(await again.waitForClose()).toEqual({ statusCode: 401, message: 'Connection Failure' })
    expect(loggedIn).toBe(false)
  })

  it('a client-initiated logout (remove-companion-device) unlinks the device', async () => {
    const { client, jid } = await pairByQr(sim, '15550004445')
    track(client)
    await client.sock.logout()
    expect(await client.waitForClose()).toMatchObject({ statusCode: 401 })
    expect(sim.devices.find(d => d.jid === jid)?.loggedOut).toBe(true)
  })

  it('replace → 440', async () => {
    const { client, jid } = await pairByQr(sim, '15550005555')
    track(client)
    sim.replace(jid)
    expect(await client.waitForClose()).toMatchObject({ statusCode: 440 })
    // Replaced is not logged out: the same credentials log in again.
    const again = track(connectClient(sim, client.auth))
    await again.waitForOpen()
  })

  it('an abrupt drop closes the client with 428 and it can log in again', async () => {
    const { client, jid } = await pairByQr(sim, '15550006666')
    track(client)
    expect(sim.openConnections()).toBeGreaterThan(0)
    sim.dropAll()
    expect(sim.openConnections()).toBe(0)
    expect(await client.waitForClose()).toMatchObject({ statusCode: 428 })
    const login = sim.waitForLogin(jid)
    const again = track(connectClient(sim, client.auth))
    await again.waitForOpen()
    expect((await login).jid).toBe(jid)
  })

  it('slow responses delay the open but do not break it', async () => {
    const { client } = await pairByQr(sim, '15550007777')
    client.end()
    sim.setResponseDelay(150)
    try {
      const started = Date.now()
      const again = track(connectClient(sim, client.auth))
      await again.waitForOpen()
      // serverHello, success, pre-key count, passive, digest: five delayed responses at least.
      expect(Date.now() - started).toBeGreaterThanOrEqual(5 * 150)
    } finally {
      sim.setResponseDelay(0)
    }
  })
})
