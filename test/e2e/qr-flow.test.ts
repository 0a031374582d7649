import { afterAll, beforeAll, expect, it } from 'vitest'
import { ScanCommand } from '@aws-sdk/lib-dynamodb'
import makeWASocket, { BufferJSON } from 'baileys'
import pino from 'pino'
import { useDynamoDBAuthState } from '@wa-link-broker/core/auth-state/baileys'
import { inEachWorkerMode, isAlive, startE2E, waitUntil, type E2E } from '../support/e2e.ts'
import { trustTestRootKeyInThisProcess } from '../wa-sim/index.ts'

inEachWorkerMode('QR link, end to end', ({ warm }) => {
  let e2e: E2E
  beforeAll(async () => {
    e2e = await startE2E({ qrTimeoutMs: 1500, warm })
  })
  afterAll(() => e2e.stop())

  it('shows rotating QRs to the client token, links on scan, and hands out working credentials', async () => {
    const { id, clientToken } = await e2e.createLink({ metadata: { user: 'u1' } })
    const first = await e2e.waitFor(id, (l) => l.qr !== null, { key: clientToken })
    expect(first).toMatchObject({ status: 'awaiting_scan', qr: { sequence: 1, imageUrl: `/v1/links/${id}/qr.svg` } })
    expect(first.qr!.value).toMatch(/^https:\/\/wa\.me\/settings\/linked_devices#/)
    expect(Date.parse(first.qr!.expiresAt)).toBeGreaterThan(Date.now())

    const rotated = await e2e.waitFor(id, (l) => (l.qr?.sequence ?? 0) >= 2, { key: clientToken })
    expect(rotated.qr!.value).not.toBe(first.qr!.value)
    const image = await e2e.request(`/v1/links/${id}/qr.png`, { key: clientToken })
    expect(image.status).toBe(200)

    const current = await e2e.read(id)
    const device = await e2e.sim.scan(current.qr!.value, { name: 'Ada' })
    const linked = await e2e.waitFor(id, (l) => l.status === 'linked', { key: clientToken })
    // A normal link, WhatsApp's restart after pairing (515) included, logs nothing at error level.
    expect(e2e.logs.lines.map((line) => JSON.parse(line)).filter((e) => e.linkId === id && e.level >= 50)).toEqual([])
    expect(e2e.logs.text).toContain('reconnecting, as WhatsApp asks once the phone has paired')
    expect(linked).toMatchObject({ status: 'linked', qr: null, error: null, pollAfterMs: null, account: { jid: device.jid, phoneNumber: device.phoneNumber, platform: device.platform } })
    expect(linked.metadata).toEqual({ user: 'u1' })

    // The worker exits once linked, and the credentials it stored are complete: a plain Baileys
    // socket built from them logs in to the simulator as the same device.
    const credentials = await (await e2e.request(`/v1/links/${id}/credentials`)).json()
    expect(credentials.account.jid).toBe(device.jid)
    const revived = JSON.parse(JSON.stringify(credentials.creds), BufferJSON.reviver)
    expect(Buffer.isBuffer(revived.noiseKey.private)).toBe(true)
    // The credentials are secrets too: the last test checks none reached a log.
    for (const secret of [revived.noiseKey.private, revived.signedIdentityKey.private, revived.signedPreKey.keyPair.private]) {
      e2e.secretsSeen.add(Buffer.from(secret).toString('base64')).add(Buffer.from(secret).toString('hex'))
    }
    e2e.secretsSeen.add(revived.advSecretKey)

    trustTestRootKeyInThisProcess()
    const { state } = await useDynamoDBAuthState(id, { doc: e2e.doc, tableName: e2e.tableName, keys: e2e.keys })
    const loggedIn = e2e.sim.waitForLogin(device.jid, { timeoutMs: 10_000 })
    const sock = makeWASocket({ auth: state, waWebSocketUrl: e2e.sim.url, logger: pino({ level: 'silent' }) })
    const opened = new Promise<void>((resolve) => sock.ev.on('connection.update', (u) => u.connection === 'open' && resolve()))
    await loggedIn
    await opened
    sock.end(undefined)

    // Nothing secret is stored in plaintext.
    const items = (await e2e.doc.send(new ScanCommand({ TableName: e2e.tableName }))).Items ?? []
    const dump = JSON.stringify(items)
    for (const secret of [revived.noiseKey.private, revived.signedIdentityKey.private, revived.signedPreKey.keyPair.private, Buffer.from(revived.advSecretKey, 'base64')]) {
      expect(dump).not.toContain(Buffer.from(secret).toString('base64'))
      expect(dump).not.toContain(Buffer.from(secret).toString('hex'))
    }
    expect(dump).not.toContain(revived.advSecretKey)
    expect(dump).not.toContain(clientToken)
  })

  it('a cancel mid-flow closes the WhatsApp connection within a second (the API pokes the worker)', async () => {
    const { id, pid } = await e2e.startAwaitingScan()
    await waitUntil(() => e2e.sim.openConnections() > 0, 5000, 'worker connection')
    const before = e2e.sim.openConnections()
    const res = await e2e.request(`/v1/links/${id}`, { method: 'DELETE' })
    expect(res.status).toBe(200)
    const started = Date.now()
    await waitUntil(() => e2e.sim.openConnections() < before, 2000, 'the simulator to see the socket close')
    // The session heart-beats every 3 s: closing well under that means the poke did it.
    expect(Date.now() - started).toBeLessThan(1000)
    expect((await e2e.read(id)).status).toBe('cancelled')
    await e2e.waitForLog(id, 'link no longer ours')
    // A one-shot worker exits; a warm host stays for the next link.
    if (warm) expect(isAlive(pid)).toBe(true)
    else await waitUntil(() => !isAlive(pid), 5000, 'worker exit')
  })

  it('DELETE on a linked link logs the device out, erases its credentials and leaves it unlinked', async () => {
    const { id } = await e2e.createLink()
    const view = await e2e.waitFor(id, (l) => l.qr !== null)
    const device = await e2e.sim.scan(view.qr!.value)
    await e2e.waitFor(id, (l) => l.status === 'linked')
    const res = await e2e.request(`/v1/links/${id}`, { method: 'DELETE' })
    expect(res.status).toBe(202)
    const unlinked = await e2e.waitFor(id, (l) => l.status === 'unlinked')
    expect(unlinked.error).toBeNull()
    expect(e2e.sim.devices.find((d) => d.jid === device.jid)?.loggedOut).toBe(true)
    const creds = await e2e.request(`/v1/links/${id}/credentials`)
    expect(creds.status).toBe(409)
    const { Items } = await e2e.doc.send(new ScanCommand({ TableName: e2e.tableName, FilterExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `AUTH#${id}` } }))
    expect(Items).toEqual([])
    expect((await e2e.request(`/v1/links/${id}`, { method: 'DELETE' })).status).toBe(200)
  })

  it('credentials are for the tenant, and only once linked', async () => {
    const { id, clientToken } = await e2e.createLink()
    expect((await e2e.request(`/v1/links/${id}/credentials`)).status).toBe(409)
    expect((await e2e.request(`/v1/links/${id}/credentials`, { key: clientToken })).status).toBe(401)
    await e2e.request(`/v1/links/${id}`, { method: 'DELETE' })
  })

  it('no QR value, pairing code or credential ever reached the logs of the API or the workers', () => {
    expect(e2e.secretsSeen.size).toBeGreaterThan(3)
    const text = e2e.logs.text
    expect(text).toContain('"worker"')
    expect(text).toContain('qr issued')
    for (const secret of e2e.secretsSeen) expect(text).not.toContain(secret)
    expect(text).not.toMatch(/linked_devices#/)
  })
})
