import { describe, expect, it } from 'vitest'
import type { Link } from '@wa-link-broker/core/link'
import { StaleLinkError, type LinkUpdate } from '@wa-link-broker/core/store'
import { FencedWriter } from './fenced-writer.ts'

const base = { id: 'lnk_x', status: 'awaiting_scan', leaseToken: 2, version: 5 } as Link

/** A store with DynamoDB's conditional semantics for the fields the writer relies on. */
function fakeStore(initial: Link) {
  let stored = { ...initial }
  const calls: LinkUpdate[] = []
  return {
    calls,
    steal: () => (stored = { ...stored, leaseToken: stored.leaseToken + 1, version: stored.version + 1 }),
    async update(_id: string, u: LinkUpdate): Promise<Link> {
      calls.push(u)
      await new Promise((r) => setTimeout(r, 5))
      if (!u.from.includes(stored.status) || (u.fence !== undefined && u.fence !== stored.leaseToken)) throw new StaleLinkError(stored)
      stored = { ...stored, ...(u.patch as object), status: u.to ?? stored.status, version: stored.version + 1 }
      return stored
    },
    /** Not a visible change: the version stays. */
    async heartbeat(_id: string, { fence }: { fence: number }): Promise<Link> {
      calls.push({ from: [], fence })
      if (fence !== stored.leaseToken) throw new StaleLinkError(stored)
      stored = { ...stored, heartbeatAt: new Date().toISOString() }
      return stored
    },
  }
}

describe('FencedWriter', () => {
  it('writes one at a time, in order, each plan seeing the link the previous write left', async () => {
    const store = fakeStore(base)
    const writer = new FencedWriter(store, base, () => undefined)
    const seen: number[] = []
    await Promise.all([1, 2, 3].map((n) => writer.write((link) => (seen.push(link.version), { from: ['awaiting_scan'], patch: { heartbeatAt: String(n) } }))))
    expect(seen).toEqual([5, 6, 7])
    expect(store.calls.map((c) => c.fence)).toEqual([2, 2, 2])
  })

  it('after losing the lease it reports the conflict and keeps writing under its own fence, so every later write fails too', async () => {
    const store = fakeStore(base)
    const conflicts: Link[] = []
    const writer = new FencedWriter(store, base, (current) => conflicts.push(current))
    store.steal()
    expect(await writer.write(() => ({ from: ['awaiting_scan'], patch: {} }))).toBeNull()
    expect(writer.holdsLease).toBe(false)
    expect(await writer.write(() => ({ from: ['awaiting_scan'], patch: {} }))).toBeNull()
    expect(store.calls.map((c) => c.fence)).toEqual([2, 2])
    expect(conflicts).toHaveLength(2)
  })

  it('heartbeats go through the same queue and fence, and report a lost lease the same way', async () => {
    const store = fakeStore(base)
    const conflicts: Link[] = []
    const writer = new FencedWriter(store, base, (current) => conflicts.push(current))
    const [written, beat] = await Promise.all([writer.write(() => ({ from: ['awaiting_scan'], patch: {} })), writer.heartbeat()])
    expect(written!.version).toBe(6)
    expect(beat).toMatchObject({ version: 6, heartbeatAt: expect.any(String) })
    store.steal()
    expect(await writer.heartbeat()).toBeNull()
    expect(conflicts).toHaveLength(1)
    expect(store.calls.map((c) => c.fence)).toEqual([2, 2, 2])
  })

  it('a plan with nothing to write resolves the current link; a store failure rejects that write only', async () => {
    const store = fakeStore(base)
    const writer = new FencedWriter(store, base, () => undefined)
    expect(await writer.write(() => null)).toBe(base)
    const failing = new FencedWriter({ update: () => Promise.reject(new Error('throttled')), heartbeat: () => Promise.reject(new Error('throttled')) }, base, () => undefined)
    await expect(failing.write(() => ({ from: ['awaiting_scan'] }))).rejects.toThrow('throttled')
    await expect(failing.idle()).resolves.toBeUndefined()
  })
})
