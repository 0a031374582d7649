import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startControlServer, startSimulator, trustTestRootKeyInThisProcess, type ControlServer, type SimDevice, type WaSimulator } from './index.ts'
import { connectClient } from './test-client.ts'

trustTestRootKeyInThisProcess()

describe('wa-sim HTTP control surface', () => {
  let sim: WaSimulator
  let control: ControlServer
  beforeAll(async () => {
    sim = await startSimulator()
    control = await startControlServer(sim)
  })
  afterAll(async () => {
    await control.close()
    await sim.close()
  })

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${control.url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) })
    return { status: res.status, body: (await res.json()) as any }
  }

  it('scans, lists, and logs out over HTTP', async () => {
    const first = connectClient(sim)
    const qr = await first.nextQr()
    const ref = qr.split('#')[1]!.split(',')[0]
    expect((await call('GET', '/qrs')).body.some((c: { refs: string[] }) => c.refs[0] === ref)).toBe(true)

    const scanned = await call('POST', '/scan', { qr, phoneNumber: '+1 555 000 9999' })
    expect(scanned.status).toBe(200)
    const device = scanned.body as SimDevice
    expect(device.jid).toBe('15550009999:1@s.whatsapp.net')
    await first.waitForClose()

    const second = connectClient(sim, first.auth)
    await second.waitForOpen()
    expect((await call('GET', '/devices')).body).toEqual([expect.objectContaining({ jid: device.jid, loggedOut: false })])

    expect((await call('POST', '/logout', { jid: device.jid })).status).toBe(200)
    expect(await second.waitForClose()).toMatchObject({ statusCode: 401 })
    expect((await call('GET', '/devices')).body[0].loggedOut).toBe(true)
  })

  it('sets a minimum client version and a passkey-only account over HTTP', async () => {
    const { DEFAULT_CONNECTION_CONFIG } = await import('baileys')
    const [major, minor, revision] = DEFAULT_CONNECTION_CONFIG.version
    expect((await call('POST', '/min-version', { version: `${major}.${minor}.${revision + 1}` })).status).toBe(200)
    const stale = connectClient(sim)
    expect(await stale.waitForClose()).toMatchObject({ statusCode: 405 })
    expect((await call('POST', '/min-version', { version: null })).status).toBe(200)
    expect((await call('POST', '/min-version', { version: 'latest' })).body.error).toMatch(/2\.3000/)

    expect((await call('POST', '/require-passkey', { phoneNumber: '+1 555 000 7777' })).status).toBe(200)
    const client = connectClient(sim)
    const refused = await call('POST', '/scan', { qr: await client.nextQr(), phoneNumber: '15550007777' })
    expect(refused).toEqual({ status: 400, body: expect.objectContaining({ name: 'PasskeyRequiredError' }) })
    client.end()
  })

  it('reports bad requests as JSON errors', async () => {
    expect(await call('POST', '/scan', {})).toEqual({ status: 400, body: expect.objectContaining({ error: 'body.qr (string) is required' }) })
    expect((await call('POST', '/enter-code', { phoneNumber: '1555', code: 'AAAA-AAAA' })).body.error).toMatch(/no companion is waiting/)
    expect((await call('GET', '/nope')).status).toBe(404)
  })
})
