import type { Logger } from 'pino'
import type { WorkerMode } from '../launcher.ts'
import { linkEnding } from '../link/endings.ts'
import { isInProgress } from '../link/status.ts'
import { StaleLinkError, type LinkStore } from '../store/link-store.ts'
import type { LogoutRequests } from '../store/logout-requests.ts'
import { endAbandoned, retryLogout } from '../sweeper.ts'
import type { Dispatcher } from './dispatch.ts'
import type { HostRegistry } from './host-registry.ts'
import { handOverPatch, planJob } from './policy.ts'

export interface SettleDeps {
  store: LinkStore
  registry: HostRegistry
  /** Hands the dead worker's links to live warm hosts; without it (or cold) they end worker_lost. */
  dispatcher?: Dispatcher
  requests?: LogoutRequests
  logger?: Logger
}

export interface StoppedWorker {
  hostId: string
  /** The link it was started for (LINK_ID), in case it died before its host item listed it. */
  linkId?: string
  /** What it was started as (WORKER_MODE): a `logout` worker's LINK_ID is a linked link, any other's is not. */
  mode?: WorkerMode
  /** Wait this long for a warm host to take a link before ending it (a restarting host registers meanwhile). */
  patienceMs?: number
}

export interface SettleReport {
  handedOver: number
  lost: number
  logoutsRetried: number
}

/**
 * A worker process is known to be gone (the local launcher saw it exit; in AWS, ECS reported the
 * task stopped): settle every link it held at once instead of waiting for heartbeats to go stale.
 * A link it never claimed, or could be resumed, is handed to a live warm host (never to a newly
 * launched one, so a worker that dies at start cannot make a launch loop); the others end
 * failed/worker_lost. Every write is conditional on what was read, so a link another host already
 * took over is left alone. Then the host item is removed.
 */
export async function settleStoppedWorker(deps: SettleDeps, worker: StoppedWorker): Promise<SettleReport> {
  const { store, registry, dispatcher, logger } = deps
  // First, so that none of the links below is dispatched back to the dead host (its heartbeat is still fresh).
  await registry.drain(worker.hostId)
  const host = await registry.read(worker.hostId)
  const ids = new Set([...(host?.links ?? []), ...(worker.linkId ? [worker.linkId] : [])])
  const report: SettleReport = { handedOver: 0, lost: 0, logoutsRetried: 0 }
  const warm = dispatcher?.warm === true
  const handOver = async (linkId: string) =>
    warm && (await dispatcher!.dispatch(linkId, { launch: false, patienceMs: worker.patienceMs ?? 3000 })).to === 'host'

  for (const id of ids) {
    const link = await store.get(id)
    if (!link) continue
    // Its lease, or nobody's while it was assigned to this worker (listed, or what it was started for).
    const startedFor = id === worker.linkId && (worker.mode === 'logout') === (link.status === 'linked')
    const ours = link.workerId === worker.hostId || (link.workerId === null && (host?.links.includes(id) || startedFor))
    if (link.status === 'linked' && link.logoutRequestedAt && ours && deps.requests && dispatcher) {
      try {
        // Let go of the dead worker's lease first, so the next worker does not wait for it to go stale.
        if (link.workerId) await store.update(id, { from: ['linked'], fence: link.leaseToken, patch: { workerId: null } })
        const outcome = await retryLogout({ store, requests: deps.requests, dispatch: (linkId) => dispatcher.launch({ linkId, mode: 'logout' }), logger }, id, { force: true })
        if (outcome === 'dispatched' || outcome === 'given_up') report.logoutsRetried++
      } catch (error) {
        if (!(error instanceof StaleLinkError)) throw error
      }
      continue
    }
    if (!isInProgress(link.status) || !ours) continue
    const job = planJob({ ...link, workerId: null }, Date.now())
    try {
      if (job.kind === 'link' && link.status !== 'pending') {
        // Let go under the dead worker's fence: if anyone took the lease since, this write fails.
        await store.update(id, { from: [link.status], fence: link.leaseToken, patch: handOverPatch(link, new Date()) })
      }
      if (job.kind === 'link' && (await handOver(id))) {
        report.handedOver++
        continue
      }
      const current = await store.get(id)
      if (!current || !isInProgress(current.status) || current.leaseToken !== link.leaseToken) continue
      const detail = link.status === 'pending' ? 'No worker started for the link.' : undefined
      if (await endAbandoned(store, current, linkEnding('worker_lost', detail))) report.lost++
    } catch (error) {
      if (!(error instanceof StaleLinkError)) throw error
    }
  }
  await registry.remove(worker.hostId)
  if (ids.size) logger?.warn({ hostId: worker.hostId, ...report }, 'settled the links of a stopped worker')
  return report
}
