import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LinkView } from '@wa-link-broker/functions'
import { isAlive, startE2E, waitUntil, type E2E } from '../support/e2e.ts'
import { PasskeyRequiredError } from '../wa-sim/index.ts'

/** The host (and its pid) holding a link. */
async function holder(e2e: E2E, linkId: string) {
  const link = (await e2e.store.get(linkId))!
  const pid = e2e.stack.launcher.processes().find((p) => p.hostId === link.workerId)?.pid
  return { hostId: link.workerId!, pid: pid!, link }
}

const warmHosts = (e2e: E2E) => e2e.stack.launcher.processes().filter((p) => p.request.mode === 'host' && !p.request.linkId)

describe('one warm host', () => {
  let e2e: E2E
  beforeAll(async () => {
    e2e = await startE2E({ warm: 1 })
  })
  afterAll(() => e2e.stop())

  it('runs 50 links at once, every one reaching its QR, without starting another process', async () => {
    const [host] = warmHosts(e2e)
    const links = await Promise.all(Array.from({ length: 50 }, () => e2e.createLink()))
    // One poller for all 50 (fifty of them would load the two cores more than the host does).
    const views = new Map<string, LinkView>()
    await waitUntil(async () => {
      for (const { id } of links) if (!views.has(id)) {
        const view = await e2e.read(id)
        if (view.qr) views.set(id, view)
      }
      return views.size === links.length
    }, 60_000, () => `all 50 QRs; ${views.size} so far`)
    expect([...views.values()].every((v) => v.status === 'awaiting_scan' && v.qr!.sequence === 1)).toBe(true)
    const holders = await Promise.all(links.map(({ id }) => holder(e2e, id)))
    expect(new Set(holders.map((h) => h.hostId))).toEqual(new Set([host.hostId]))
    expect(e2e.stack.launcher.processes()).toHaveLength(1)
    expect(e2e.sim.openConnections()).toBeGreaterThanOrEqual(50)
    await Promise.all(links.map(({ id }) => e2e.request(`/v1/links/${id}`, { method: 'DELETE' })))
    await waitUntil(async () => ((await e2e.stack.registry.read(host.hostId))?.links.length ?? 0) === 0, 15_000, 'the host to release all 50')
    expect(isAlive(host.pid!)).toBe(true)
  }, 120_000)

  it('a scan on one link while another is cancelled and a third expires: each ends its own way, the host goes on', async () => {
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => e2e.startAwaitingScan()))
    expect(new Set([a.pid, b.pid, c.pid]).size).toBe(1)
    const stored = (await e2e.store.get(c.id))!
    await Promise.all([
      e2e.sim.scan(a.view.qr!.value),
      e2e.request(`/v1/links/${b.id}`, { method: 'DELETE' }),
      e2e.store.update(c.id, { from: [stored.status], patch: { expiresAt: new Date(Date.now() + 300).toISOString() } }),
    ])
    expect(await e2e.waitFor(a.id, (l) => l.status === 'linked')).toMatchObject({ status: 'linked', error: null })
    expect(await e2e.read(b.id)).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } })
    // The session learns of the new deadline at its next heartbeat and writes the ending itself.
    await e2e.waitForLog(c.id, 'link ended', 15_000)
    expect(await e2e.store.get(c.id)).toMatchObject({ status: 'expired', error: { code: 'deadline' } })
    expect(isAlive(a.pid)).toBe(true)
    // And it takes the next link as before.
    await e2e.startAwaitingScan()
  })

  it('an account that needs a passkey ends its link failed/passkey_required; the host goes on', async () => {
    const phoneNumber = '15550007702'
    e2e.sim.requirePasskey(phoneNumber)
    const { id, pid, view } = await e2e.startAwaitingScan()
    await expect(e2e.sim.scan(view.qr!.value, { phoneNumber })).rejects.toBeInstanceOf(PasskeyRequiredError)
    expect(await e2e.waitFor(id, (l) => l.status === 'failed')).toMatchObject({ error: { code: 'passkey_required' } })
    expect(isAlive(pid)).toBe(true)
  })

  it('a host that dies right after taking a link, before claiming it: the link still gets a QR', async () => {
    const [host] = warmHosts(e2e)
    process.kill(host.pid!, 'SIGSTOP')
    let id: string
    try {
      ;({ id } = await e2e.createLink())
      expect((await e2e.stack.registry.read(host.hostId))!.links).toContain(id)
      expect((await e2e.store.get(id))!.status).toBe('pending')
    } finally {
      process.kill(host.pid!, 'SIGKILL')
    }
    const view = await e2e.waitFor(id, (l) => l.qr !== null, { timeoutMs: 15_000 })
    expect(view.status).toBe('awaiting_scan')
    expect((await holder(e2e, id)).hostId).not.toBe(host.hostId)
  })
})

describe('two warm hosts, with no settling when a process exits (as when ECS reports a stopped task late)', () => {
  let e2e: E2E
  beforeAll(async () => {
    e2e = await startE2E({ warm: 2, settleStoppedWorkers: false })
  })
  afterAll(() => e2e.stop())

  /** Links until the host given by `pick` holds at least `count` of them. */
  async function linksOnOneHost(count: number) {
    const made: Awaited<ReturnType<E2E['startAwaitingScan']>>[] = []
    for (let i = 0; i < 12; i++) {
      made.push(await e2e.startAwaitingScan())
      const pid = made.map((m) => m.pid).find((p) => made.filter((m) => m.pid === p).length >= count)
      if (pid) return { pid, mine: made.filter((m) => m.pid === pid) }
    }
    throw new Error('dispatch never put enough links on one host')
  }

  it('a peer host adopts a link whose host died before claiming it', async () => {
    const hosts = warmHosts(e2e)
    hosts.forEach((h) => process.kill(h.pid!, 'SIGSTOP'))
    let id: string
    let taker: (typeof hosts)[number]
    try {
      ;({ id } = await e2e.createLink())
      const items = await Promise.all(hosts.map((h) => e2e.stack.registry.read(h.hostId)))
      taker = hosts[items.findIndex((item) => item!.links.includes(id))]
      process.kill(taker.pid!, 'SIGKILL')
    } finally {
      hosts.forEach((h) => isAlive(h.pid!) && process.kill(h.pid!, 'SIGCONT'))
    }
    const killedAt = Date.now()
    await e2e.waitFor(id, (l) => l.qr !== null, { timeoutMs: 15_000 })
    console.log(`[measure] host died holding an unclaimed link → a peer's QR in ${Date.now() - killedAt} ms`)
    expect((await holder(e2e, id)).hostId).not.toBe(taker!.hostId)
  })

  it('SIGKILL of a host with links in progress: a peer takes each over within 15 s, and its QRs go on', async () => {
    const { pid, mine } = await linksOnOneHost(2)
    const before = await Promise.all(mine.map((m) => e2e.store.get(m.id)))
    process.kill(pid, 'SIGKILL')
    const killedAt = Date.now()
    const times = await Promise.all(
      mine.map(async (m, i) => {
        await waitUntil(async () => {
          const now = (await e2e.store.get(m.id))!
          return now.status === 'failed' || now.leaseToken > before[i]!.leaseToken
        }, 15_000, `link ${m.id} to be taken over or ended`)
        const claimed = Date.now() - killedAt
        const view = await e2e.waitFor(m.id, (l) => l.status === 'failed' || (l.qr?.sequence ?? 0) > m.view.qr!.sequence, { timeoutMs: 10_000 })
        return { claimed, qr: Date.now() - killedAt, status: view.status }
      }),
    )
    console.log(`[measure] host SIGKILLed with ${mine.length} links, peer sweep only: taken over after ${times.map((t) => t.claimed).join(', ')} ms; new QR after ${times.map((t) => t.qr).join(', ')} ms`)
    for (const t of times) {
      expect(t.claimed).toBeLessThan(15_000)
      expect(t.status).toBe('awaiting_scan')
    }
  }, 60_000)

  it('SIGTERM drains a host: a pairing link finishes, links waiting for the user move to the other host, nothing is left behind', async () => {
    const { pid, mine } = await linksOnOneHost(3)
    const hostId = (await holder(e2e, mine[0].id)).hostId
    const [pairing, ...waiting] = mine
    e2e.sim.setResponseDelay(400)
    try {
      const scanned = e2e.sim.scan(pairing.view.qr!.value)
      await e2e.waitFor(pairing.id, (l) => l.status === 'pairing')
      const before = await Promise.all(waiting.map((m) => e2e.store.get(m.id)))
      const signalledAt = Date.now()
      await e2e.signalWorker(pid, 'SIGTERM')
      console.log(`[measure] drain of a host with ${mine.length} links took ${Date.now() - signalledAt} ms`)
      await scanned
      expect(await e2e.waitFor(pairing.id, (l) => l.status !== 'pairing')).toMatchObject({ status: 'linked' })
      for (const [i, m] of waiting.entries()) {
        const view = await e2e.waitFor(m.id, (l) => (l.qr?.sequence ?? 0) > m.view.qr!.sequence, { timeoutMs: 10_000 })
        expect(view.status).toBe('awaiting_scan')
        const after = (await e2e.store.get(m.id))!
        expect(after.leaseToken).toBe(before[i]!.leaseToken + 1)
        expect(after.workerId).not.toBe(hostId)
      }
    } finally {
      e2e.sim.setResponseDelay(0)
    }
    expect(await e2e.stack.registry.read(hostId)).toBeNull()
    expect(e2e.logs.text).toContain('handed the link over to another host')
  }, 60_000)
})
