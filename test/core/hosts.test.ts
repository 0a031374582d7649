import { QueryCommand } from '@aws-sdk/lib-dynamodb'
import { describe, expect, it } from 'vitest'
import { useDynamoDBAuthState } from '@wa-link-broker/core/auth-state/baileys'
import { LocalKeyProvider } from '@wa-link-broker/core/crypto'
import { LinkDispatcher, HostRegistry, LEASE_STALE_MS } from '@wa-link-broker/core/hosts'
import { LoggingLauncher } from '@wa-link-broker/core/launcher'
import { newLinkId, type Link } from '@wa-link-broker/core/link'
import { createLogger } from '@wa-link-broker/core/logger'
import { settleStoppedTask } from '@wa-link-broker/core/settle'
import { LinkStore, LogoutRequests, StaleLinkError } from '@wa-link-broker/core/store'
import { sweepLogouts, sweepStaleLinks } from '@wa-link-broker/core/sweeper'
import { createTestTable } from '../support/store.ts'

const logger = createLogger({ level: 'silent' })

async function setup() {
  const { doc, tableName } = await createTestTable('hosts')
  const store = new LinkStore(doc, tableName)
  return { doc, tableName, store, registry: new HostRegistry(doc, tableName), requests: new LogoutRequests(doc, tableName, store) }
}

async function newLink(store: LinkStore, overrides: Partial<Link> = {}): Promise<Link> {
  const now = new Date()
  const link: Link = {
    id: newLinkId(), tenantId: 't', status: 'pending', method: 'qr', phoneNumber: null, qr: null, pairingCode: null, account: null, error: null,
    metadata: {}, webhookUrl: null, createdAt: now.toISOString(), updatedAt: now.toISOString(), expiresAt: new Date(now.getTime() + 300_000).toISOString(),
    version: 1, leaseToken: 0, heartbeatAt: null, workerId: null, clientTokenHashes: [], ...overrides,
  }
  await store.create(link)
  return link
}
const ago = (ms: number) => new Date(Date.now() - ms).toISOString()

describe('HostRegistry', () => {
  it('offers a link only to a live, accepting host with room; one-shot workers are not listed', async () => {
    const { doc, tableName, registry } = await setup()
    await registry.register({ id: 'h1', capacity: 2, listed: true })
    await registry.register({ id: 'oneshot', capacity: 1, links: ['lnk_a'], listed: false })
    expect(await registry.list()).toEqual(['h1'])
    expect(await registry.offer('h1', 'l1')).toBe(true)
    expect(await registry.offer('h1', 'l1')).toBe(true) // the same link again: still one
    expect(await registry.offer('h1', 'l2')).toBe(true)
    expect(await registry.offer('h1', 'l3')).toBe(false) // full
    expect(await registry.offer('oneshot', 'l4')).toBe(false) // not accepting
    expect(await registry.offer('nobody', 'l5')).toBe(false)
    await registry.release('h1', ['l1'])
    // Seen from 11 s later, h1 has not heart-beaten recently: no offer.
    const later = new HostRegistry(doc, tableName, () => Date.now() + 11_000)
    expect(await later.offer('h1', 'l6')).toBe(false)
    expect(await registry.offer('h1', 'l6')).toBe(true)
    expect((await registry.read('h1'))!.links.sort()).toEqual(['l2', 'l6'])
  })

  it('of many concurrent offers to a host with room for 5, exactly 5 win', async () => {
    const { registry } = await setup()
    await registry.register({ id: 'h', capacity: 5, listed: true })
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => registry.offer('h', `l${i}`)))
    expect(wins.filter(Boolean)).toHaveLength(5)
    expect((await registry.read('h'))!.links).toHaveLength(5)
  })

  it('a draining host gets nothing; an idle-exit drain refuses while a link is held', async () => {
    const { registry } = await setup()
    await registry.register({ id: 'h', capacity: 5, listed: true })
    await registry.offer('h', 'l1')
    expect(await registry.drain('h', { onlyIfIdle: true })).toBe(false)
    expect(await registry.offer('h', 'l2')).toBe(true)
    await registry.release('h', ['l1', 'l2'])
    expect(await registry.drain('h', { onlyIfIdle: true })).toBe(true)
    expect(await registry.offer('h', 'l3')).toBe(false)
    expect(await registry.read('h')).toMatchObject({ draining: true, accepting: false, links: [] })
  })

  it('pokes land in the host item until cleared; a poke to a missing host says so', async () => {
    const { registry } = await setup()
    await registry.register({ id: 'h', capacity: 5, listed: true })
    expect(await registry.poke('h', 'l1')).toBe(true)
    expect(await registry.poke('h', 'l2')).toBe(true)
    expect((await registry.read('h'))!.pokes.sort()).toEqual(['l1', 'l2'])
    await registry.clearPokes('h', ['l1'])
    expect((await registry.read('h'))!.pokes).toEqual(['l2'])
    expect(await registry.poke('gone', 'l1')).toBe(false)
    await registry.remove('h')
    expect(await registry.heartbeat('h')).toBe(false)
  })
})

describe('LinkDispatcher', () => {
  it('a warm host with room gets the link; with none, the launcher starts a host for it', async () => {
    const { registry } = await setup()
    const launcher = new LoggingLauncher(logger)
    const dispatcher = new LinkDispatcher({ registry, launcher, warm: true, logger })
    await dispatcher.launch({ linkId: 'lnk_1', mode: 'link' })
    expect(launcher.launched).toEqual([{ linkId: 'lnk_1', mode: 'host' }])
    await registry.register({ id: 'h', capacity: 1, listed: true })
    expect(await dispatcher.dispatch('lnk_2')).toEqual({ to: 'host', hostId: 'h' })
    expect(await dispatcher.dispatch('lnk_3', { launch: false })).toEqual({ to: 'nobody' })
    expect(launcher.launched).toHaveLength(1)
  })

  it('with patience, a host that registers meanwhile gets it', async () => {
    const { registry } = await setup()
    const launcher = new LoggingLauncher(logger)
    const dispatcher = new LinkDispatcher({ registry, launcher, warm: true, logger })
    setTimeout(() => void registry.register({ id: 'late', capacity: 1, listed: true }), 300)
    expect(await dispatcher.dispatch('lnk_1', { patienceMs: 3000 })).toEqual({ to: 'host', hostId: 'late' })
    expect(launcher.launched).toEqual([])
  })

  it('WARM_WORKERS=0: every link gets its own one-shot worker, hosts or not', async () => {
    const { registry } = await setup()
    await registry.register({ id: 'h', capacity: 5, listed: true })
    const launcher = new LoggingLauncher(logger)
    const dispatcher = new LinkDispatcher({ registry, launcher, warm: false, logger })
    await dispatcher.launch({ linkId: 'lnk_1', mode: 'link' })
    await dispatcher.launch({ linkId: 'lnk_2', mode: 'logout' })
    expect(launcher.launched).toEqual([{ linkId: 'lnk_1', mode: 'link' }, { linkId: 'lnk_2', mode: 'logout' }])
    expect((await registry.read('h'))!.links).toEqual([])
  })
})

describe('settleStoppedTask for hosts', () => {
  it('hands what can be resumed to a live host, ends the rest worker_lost, leaves others’ links alone, removes the host', async () => {
    const { store, registry, requests } = await setup()
    const fresh = ago(1000)
    const pending = await newLink(store)
    const waiting = await newLink(store, { status: 'awaiting_scan', workerId: 'dead', heartbeatAt: fresh, leaseToken: 1, qr: { value: 'v', sequence: 3, expiresAt: ago(-9000) } })
    const pairing = await newLink(store, { status: 'pairing', workerId: 'dead', heartbeatAt: fresh, leaseToken: 1 })
    const elsewhere = await newLink(store, { status: 'awaiting_scan', workerId: 'alive', heartbeatAt: fresh, leaseToken: 2 })
    const done = await newLink(store, { status: 'cancelled' })
    await registry.register({ id: 'dead', capacity: 5, listed: true, links: [pending.id, waiting.id, pairing.id, elsewhere.id, done.id] })
    await registry.register({ id: 'alive', capacity: 5, listed: true })
    const dispatcher = new LinkDispatcher({ registry, warm: true, logger })

    const settled = await settleStoppedTask({ hostId: 'dead', stoppedAt: new Date().toISOString(), reason: 'killed by SIGKILL' }, { store, registry, dispatcher, requests, logger })
    expect(new Map(settled.map((s) => [s.linkId, s.outcome]))).toEqual(
      new Map([[pending.id, 'handed_over'], [waiting.id, 'handed_over'], [pairing.id, 'worker_lost'], [elsewhere.id, 'untouched'], [done.id, 'untouched']]),
    )
    expect((await registry.read('alive'))!.links.sort()).toEqual([pending.id, waiting.id].sort())
    expect(await store.get(waiting.id)).toMatchObject({ status: 'awaiting_scan', workerId: null, leaseToken: 1, qr: { value: '', sequence: 3 } })
    expect(await store.get(pairing.id)).toMatchObject({ status: 'failed', error: { code: 'worker_lost', message: expect.stringContaining('killed by SIGKILL') } })
    expect(await store.get(elsewhere.id)).toMatchObject({ status: 'awaiting_scan', workerId: 'alive', version: elsewhere.version })
    expect(await registry.read('dead')).toBeNull()
  })

  it('with WARM_WORKERS=0 the links end at once, even one it died before listing', async () => {
    const { store, registry } = await setup()
    const never = await newLink(store)
    const waiting = await newLink(store, { status: 'awaiting_scan', workerId: 'dead', heartbeatAt: ago(500), leaseToken: 1 })
    await registry.register({ id: 'dead', capacity: 1, listed: false, links: [waiting.id] })
    const dispatcher = new LinkDispatcher({ registry, launcher: new LoggingLauncher(logger), warm: false, logger })
    const settled = await settleStoppedTask({ hostId: 'dead', linkId: never.id, mode: 'link', stoppedAt: new Date().toISOString(), reason: 'exited with code 1' }, { store, registry, dispatcher, logger })
    expect(settled).toEqual([{ linkId: never.id, outcome: 'launch_failed' }, { linkId: waiting.id, outcome: 'worker_lost' }])
    expect(await store.get(never.id)).toMatchObject({ status: 'failed', error: { code: 'launch_failed', message: expect.stringContaining('exited with code 1') } })
    expect(await store.get(waiting.id)).toMatchObject({ status: 'failed', error: { code: 'worker_lost' } })
  })
})

describe('settleStoppedTask after a normal exit', () => {
  it('a link worker that exits once linked leaves a logout asked for meanwhile to its own worker', async () => {
    const { store, registry, requests } = await setup()
    const link = await newLink(store, { status: 'linked', workerId: null, leaseToken: 1 })
    await requests.request(link.id)
    const dispatcher = new LinkDispatcher({ registry, launcher: new LoggingLauncher(logger), warm: false, logger })
    const stopped = (hostId: string, mode: 'link' | 'logout') => ({ hostId, linkId: link.id, mode, stoppedAt: new Date().toISOString(), reason: 'exited with code 0' })
    expect(await settleStoppedTask(stopped('gone', 'link'), { store, registry, dispatcher, requests, logger })).toEqual([{ linkId: link.id, outcome: 'untouched' }])
    expect(await requests.get(link.id)).toMatchObject({ attempts: 1 })
    // The logout worker itself dying before its claim is another matter: sent again.
    expect(await settleStoppedTask(stopped('gone2', 'logout'), { store, registry, dispatcher, requests, logger })).toEqual([{ linkId: link.id, outcome: 'logout_retried' }])
    expect(await requests.get(link.id)).toMatchObject({ attempts: 2 })
  })
})

describe('sweepStaleLinks with adoption (the hosts’ peer sweep)', () => {
  it('adopts a link never claimed after a few seconds and one whose holder went quiet; ends what it cannot adopt', async () => {
    const { store } = await setup()
    const unclaimed = await newLink(store, { createdAt: ago(4000) })
    const young = await newLink(store)
    const quiet = await newLink(store, { status: 'awaiting_scan', workerId: 'gone', heartbeatAt: ago(LEASE_STALE_MS + 1000), leaseToken: 1 })
    const live = await newLink(store, { status: 'awaiting_scan', workerId: 'h', heartbeatAt: ago(4000), leaseToken: 1 })
    const adopted: string[] = []
    const first = await sweepStaleLinks(store, { staleAfterMs: LEASE_STALE_MS, adopt: async (l) => (adopted.push(l.id), true) })
    expect(adopted.sort()).toEqual([unclaimed.id, quiet.id].sort())
    expect(first).toEqual({ adopted: 2, lost: 0, expired: 0 })
    // A peer without room: the quiet link ends; the unclaimed one waits for the launch grace.
    const second = await sweepStaleLinks(store, { staleAfterMs: LEASE_STALE_MS, adopt: async () => false })
    expect(second).toEqual({ adopted: 0, lost: 1, expired: 0 })
    expect(await store.get(quiet.id)).toMatchObject({ status: 'failed', error: { code: 'worker_lost' } })
    for (const id of [unclaimed.id, young.id]) expect((await store.get(id))!.status).toBe('pending')
    expect((await store.get(live.id))!.status).toBe('awaiting_scan')
  })
})

describe('logout requests', () => {
  it('are recorded on the link and queued in one conditional write; a second request is a no-op; only a linked link', async () => {
    const { store, requests } = await setup()
    const linked = await newLink(store, { status: 'linked' })
    expect(await requests.request(linked.id)).toBe(true)
    expect(await requests.request(linked.id)).toBe(false)
    expect((await store.get(linked.id))!.logoutRequestedAt).toEqual(expect.any(String))
    expect(await requests.get(linked.id)).toMatchObject({ attempts: 1 })
    const waiting = await newLink(store, { status: 'awaiting_scan' })
    await expect(requests.request(waiting.id)).rejects.toBeInstanceOf(StaleLinkError)
    expect(await requests.get(waiting.id)).toBeNull()
  })

  it('a logout whose worker dies is sent again, and after 3 attempts the credentials are erased and the link unlinked unconfirmed', async () => {
    const { doc, tableName, store, requests } = await setup()
    const link = await newLink(store, { status: 'linked' })
    const auth = await useDynamoDBAuthState(link.id, { doc, tableName, keys: new LocalKeyProvider(Buffer.alloc(32, 3)) })
    await auth.saveCreds()
    const authItems = async () => (await doc.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `AUTH#${link.id}` } }))).Items ?? []
    expect((await authItems()).length).toBeGreaterThan(0)
    await requests.request(link.id)
    const dispatched: string[] = []
    const deps = { store, requests, dispatch: async (id: string) => void dispatched.push(id) }
    const at = (s: number) => ({ now: Date.now() + s * 1000 })

    expect(await sweepLogouts(deps, at(0))).toEqual({ waiting: 1 })
    // A worker claimed it and heart-beats: it is running.
    await store.claim(link.id, ['linked'], undefined, { workerId: 'h' })
    expect(await sweepLogouts(deps, at(1))).toEqual({ running: 1 })
    // It died: a minute on, its heartbeat is long stale.
    expect(await sweepLogouts(deps, at(61))).toEqual({ dispatched: 1 })
    expect(await sweepLogouts(deps, at(200))).toEqual({ dispatched: 1 })
    expect(dispatched).toEqual([link.id, link.id])
    expect(await sweepLogouts(deps, at(300))).toEqual({ given_up: 1 })
    expect(await store.get(link.id)).toMatchObject({ status: 'unlinked', error: { code: 'logout_unconfirmed' } })
    expect(await authItems()).toEqual([])
    expect(await requests.get(link.id)).toBeNull()
    expect(await sweepLogouts(deps, at(400))).toEqual({})
  })
})
