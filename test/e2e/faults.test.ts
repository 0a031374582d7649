import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { QueryCommand } from '@aws-sdk/lib-dynamodb'
import { useDynamoDBAuthState } from '@wa-link-broker/core/auth-state/baileys'
import { sweepStaleLinks } from '@wa-link-broker/core/sweeper'
import { freePort } from '../../scripts/dynamodb-local.ts'
import { inEachWorkerMode, isAlive, startE2E, waitUntil, type E2E } from '../support/e2e.ts'

inEachWorkerMode('endings and faults, end to end', ({ warm }) => {
  let e2e: E2E
  beforeAll(async () => {
    e2e = await startE2E({ sim: { refs: 3 }, workerEnv: { WORKER_MAX_RECONNECTS: '3' }, warm })
  })
  afterAll(() => e2e.stop())

  /** A frozen worker (SIGSTOP): alive, but neither heart-beating nor exiting, so nothing settles its links. */
  async function frozen<T>(pid: number, body: () => Promise<T>): Promise<T> {
    process.kill(pid, 'SIGSTOP')
    try {
      return await body()
    } finally {
      process.kill(pid, 'SIGCONT')
    }
  }

  it('refs exhausted → expired/qr_exhausted', async () => {
    const fast = await startE2E({ sim: { refs: 2 }, qrTimeoutMs: 300, warm })
    try {
      const { id } = await fast.createLink()
      const ended = await fast.waitFor(id, (l) => l.status !== 'pending' && l.status !== 'starting' && l.status !== 'awaiting_scan')
      expect(ended).toMatchObject({ status: 'expired', error: { code: 'qr_exhausted' }, qr: null, pollAfterMs: null })
    } finally {
      await fast.stop()
    }
  })

  it('a logout during pairing → failed/logged_out', async () => {
    const { id } = await e2e.createLink()
    const view = await e2e.waitFor(id, (l) => l.qr !== null)
    e2e.sim.setResponseDelay(300)
    try {
      const device = await e2e.sim.scan(view.qr!.value)
      e2e.sim.logout(device.jid)
      const ended = await e2e.waitFor(id, (l) => l.status === 'failed' || l.status === 'linked')
      expect(ended).toMatchObject({ status: 'failed', error: { code: 'logged_out' } })
    } finally {
      e2e.sim.setResponseDelay(0)
    }
  })

  it('replaced (440) → failed/replaced', async () => {
    const { id } = await e2e.createLink()
    const view = await e2e.waitFor(id, (l) => l.qr !== null)
    e2e.sim.setResponseDelay(300)
    const onLogin = (device: { jid: string }) => e2e.sim.replace(device.jid)
    e2e.sim.on('login', onLogin)
    try {
      await e2e.sim.scan(view.qr!.value)
      const ended = await e2e.waitFor(id, (l) => l.status === 'failed' || l.status === 'linked')
      expect(ended).toMatchObject({ status: 'failed', error: { code: 'replaced' } })
    } finally {
      e2e.sim.off('login', onLogin)
      e2e.sim.setResponseDelay(0)
    }
  })

  it('a socket drop, then a reconnect, then success', async () => {
    const { id } = await e2e.createLink()
    const before = await e2e.waitFor(id, (l) => l.qr !== null)
    e2e.sim.dropAll()
    const after = await e2e.waitFor(id, (l) => (l.qr?.sequence ?? 0) > before.qr!.sequence)
    expect(after.status).toBe('awaiting_scan')
    expect(after.qr!.value).not.toBe(before.qr!.value)
    await e2e.sim.scan(after.qr!.value)
    await e2e.waitFor(id, (l) => l.status === 'linked')
  })

  it('a drop after the pairing code was issued reconnects as a new registration with a new code, not a false logout', async () => {
    const { id } = await e2e.createLink({ method: 'code', phoneNumber: '+1 234 567 8901' })
    const first = await e2e.waitFor(id, (l) => l.pairingCode !== null)
    e2e.sim.dropAll()
    const second = await e2e.waitFor(id, (l) => l.pairingCode !== null && l.pairingCode.code !== first.pairingCode!.code)
    expect(second.status).toBe('awaiting_code')
    await e2e.sim.enterCode('12345678901', second.pairingCode!.code)
    await e2e.waitFor(id, (l) => l.status === 'linked')
  })

  it('gives up after bounded reconnects → failed/connection_lost', async () => {
    const { id } = await e2e.createLink()
    await e2e.waitFor(id, (l) => l.qr !== null)
    const dropper = () => e2e.sim.dropAll()
    e2e.sim.on('connection', dropper)
    try {
      e2e.sim.dropAll()
      const ended = await e2e.waitFor(id, (l) => l.status === 'failed', { timeoutMs: 30_000 })
      expect(ended.error!.code).toBe('connection_lost')
      expect(ended.error!.message).toMatch(/3 times/)
    } finally {
      e2e.sim.off('connection', dropper)
    }
  })

  it("the link's deadline → expired/deadline, written by the worker, which closes its socket", async () => {
    const { id, pid } = await e2e.startAwaitingScan()
    const stored = (await e2e.store.get(id))!
    await e2e.store.update(id, { from: [stored.status], patch: { expiresAt: new Date(Date.now() + 300).toISOString() } })
    await e2e.waitForLog(id, 'link ended', 5000)
    expect(await e2e.store.get(id)).toMatchObject({ status: 'expired', error: { code: 'deadline' }, qr: null })
    if (!warm) await waitUntil(() => !isAlive(pid), 5000, 'the one-shot worker to exit')
  })

  it('a frozen worker does not leave the link awaiting_scan: it reads expired at its deadline, and the sweeper records it', async () => {
    const { id, pid } = await e2e.startAwaitingScan()
    await frozen(pid, async () => {
      // Bring the deadline close instead of waiting minutes for it.
      const stored = (await e2e.store.get(id))!
      await e2e.store.update(id, { from: [stored.status], patch: { expiresAt: new Date(Date.now() + 500).toISOString() } })
      expect((await e2e.read(id)).status).toBe('awaiting_scan')
      await new Promise((r) => setTimeout(r, 600))
      expect(await e2e.read(id)).toMatchObject({ status: 'expired', error: { code: 'deadline' }, qr: null })
      expect((await e2e.store.get(id))!.status).toBe('awaiting_scan')
      await sweepStaleLinks(e2e.store, { staleAfterMs: 0 })
      expect((await e2e.store.get(id))!).toMatchObject({ status: 'expired', error: { code: 'deadline' } })
    })
    // Thawed, the worker finds the link decided and lets go without writing.
    await e2e.waitForLog(id, 'link no longer ours')
    expect((await e2e.store.get(id))!).toMatchObject({ status: 'expired', error: { code: 'deadline' } })
  })

  it('a worker that stopped heart-beating is swept to failed/worker_lost before its deadline, and its credentials erased', async () => {
    const { id, pid } = await e2e.startAwaitingScan()
    const authItems = async () => (await e2e.doc.send(new QueryCommand({ TableName: e2e.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `AUTH#${id}` } }))).Items ?? []
    await frozen(pid, async () => {
      await (await useDynamoDBAuthState(id, { doc: e2e.doc, tableName: e2e.tableName, keys: e2e.keys })).saveCreds()
      expect((await authItems()).length).toBeGreaterThan(0)
      expect(await sweepStaleLinks(e2e.store, { now: new Date(Date.now() + 31_000) })).toMatchObject({ lost: 1 })
      expect(await e2e.read(id)).toMatchObject({ status: 'failed', error: { code: 'worker_lost' } })
    })
    await e2e.waitForLog(id, 'link no longer ours')
    expect(await authItems()).toEqual([])
  })

  it(warm ? 'a SIGKILLed host: its link is taken over by the restarted warm host within 15 s, the QR sequence going on' : 'a SIGKILLed worker: its link ends failed/worker_lost within 15 s', async () => {
    const { id, pid, view } = await e2e.startAwaitingScan()
    const before = (await e2e.store.get(id))!
    process.kill(pid, 'SIGKILL')
    const killedAt = Date.now()
    const settled = await e2e.waitFor(id, (l) => l.status === 'failed' || (l.qr !== null && l.qr.sequence > view.qr!.sequence), { timeoutMs: 15_000 })
    const ms = Date.now() - killedAt
    console.log(`[measure] ${warm ? 'warm' : 'one-shot'} worker SIGKILLed → link ${warm ? 'taken over (new QR)' : 'failed/worker_lost'} in ${ms} ms`)
    expect(ms).toBeLessThan(15_000)
    if (warm) {
      expect(settled).toMatchObject({ status: 'awaiting_scan' })
      const after = (await e2e.store.get(id))!
      expect(after.leaseToken).toBe(before.leaseToken + 1)
      expect(after.workerId).not.toBe(before.workerId)
      await e2e.sim.scan(settled.qr!.value)
      await e2e.waitFor(id, (l) => l.status === 'linked')
    } else {
      expect(settled).toMatchObject({ status: 'failed', error: { code: 'worker_lost' }, qr: null })
    }
  })

  it('SIGTERM with no other host to take the link leaves it truthfully failed/worker_stopped, and the worker exits', async () => {
    const { id, pid } = await e2e.startAwaitingScan()
    await e2e.signalWorker(pid, 'SIGTERM')
    expect(await e2e.read(id)).toMatchObject({ status: 'failed', error: { code: 'worker_stopped' }, qr: null })
  })

  it('a worker that lost its lease never overwrites the link', async () => {
    const { id, view } = await e2e.startAwaitingScan()
    // Another holder takes the lease (as a host taking the link over would).
    const taken = await e2e.store.claim(id, ['awaiting_scan'], undefined, { workerId: 'someone-else' })
    await e2e.waitForLog(id, 'link no longer ours')
    const after = (await e2e.store.get(id))!
    expect(after.leaseToken).toBe(taken.leaseToken)
    expect(after.version).toBe(taken.version)
    expect(after.qr!.sequence).toBe(view.qr!.sequence)
  })

  it('a logout whose worker dies is sent to a worker again, until the link is unlinked', async () => {
    const { id, view } = await e2e.startAwaitingScan()
    const device = await e2e.sim.scan(view.qr!.value)
    await e2e.waitFor(id, (l) => l.status === 'linked')
    const linked = (await e2e.store.get(id))!
    // WhatsApp answers slowly, so the logout worker is still at it when it is killed.
    e2e.sim.setResponseDelay(5000)
    try {
      expect((await e2e.request(`/v1/links/${id}`, { method: 'DELETE' })).status).toBe(202)
      await waitUntil(async () => (await e2e.store.get(id))!.leaseToken > linked.leaseToken, 10_000, 'a logout worker to claim the link')
      const pid = await e2e.workerPid(id)
      expect(pid, `the process of ${(await e2e.store.get(id))!.workerId}`).toBeDefined()
      process.kill(pid!, 'SIGKILL')
    } finally {
      e2e.sim.setResponseDelay(0)
    }
    const unlinked = await e2e.waitFor(id, (l) => l.status === 'unlinked', { timeoutMs: 30_000 })
    expect(unlinked.error).toBeNull()
    expect(e2e.sim.devices.find((d) => d.jid === device.jid)?.loggedOut).toBe(true)
    expect(e2e.logs.text).toContain('logout did not finish: dispatching it again')
    expect((await e2e.request(`/v1/links/${id}/credentials`)).status).toBe(409)
  }, 60_000)

  it('kept every QR value and pairing code out of the logs', () => {
    for (const secret of e2e.secretsSeen) expect(e2e.logs.text).not.toContain(secret)
  })
})

describe('a worker that cannot reach WhatsApp', () => {
  let e2e: E2E
  beforeAll(async () => {
    const closed = await freePort()
    e2e = await startE2E({ workerEnv: { WA_WS_URL: `ws://127.0.0.1:${closed}/ws/chat`, WORKER_MAX_RECONNECTS: '2' } })
  })
  afterAll(() => e2e.stop())

  it('says why once, plainly, and ends its links failed/connection_lost with the reason', async () => {
    const links = await Promise.all([e2e.createLink(), e2e.createLink()])
    for (const { id } of links) {
      const ended = await e2e.waitFor(id, (l) => l.status === 'failed', { timeoutMs: 20_000 })
      expect(ended.error).toMatchObject({ code: 'connection_lost', message: expect.stringContaining('WhatsApp could not be reached: connect ECONNREFUSED') })
    }
    const warnings = e2e.logs.lines.map((line) => JSON.parse(line)).filter((e) => e.level >= 40 && /cannot reach/.test(e.msg))
    expect(warnings).toHaveLength(1)
    expect(warnings[0].msg).toMatch(/^cannot reach ws:\/\/127\.0\.0\.1:\d+\/ws\/chat: connect ECONNREFUSED .*; retrying$/)
    expect(e2e.logs.lines.filter((line) => line.includes('"statusCode":408'))).toEqual([])
  })
})
