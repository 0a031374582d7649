import type { Logger } from 'pino'
import type { LinkDispatcher } from './hosts/dispatch.ts'
import type { HostRegistry } from './hosts/host-registry.ts'
import { handOverPatch, planJob } from './hosts/policy.ts'
import type { WorkerMode } from './launcher.ts'
import { endingStatus, linkEnding } from './link/endings.ts'
import type { Link } from './link/link.ts'
import { IN_PROGRESS_STATUSES, isInProgress } from './link/status.ts'
import { StaleLinkError, type LinkStore } from './store/link-store.ts'
import type { LogoutRequests } from './store/logout-requests.ts'
import { retryLogout } from './sweeper.ts'

/**
 * A worker process that stopped: an ECS task (an EventBridge "ECS Task State Change", lastStatus
 * STOPPED), or locally a child process the launcher saw exit.
 */
export interface StoppedTask {
  /** The ECS task; absent locally. */
  taskArn?: string
  /** The id its host item is registered under: the ECS task id (from `taskArn` when not given), or the local launcher's. */
  hostId?: string
  /** WORKER_MODE from the task's container overrides; undefined when it ran its definition's default (a warm-host service task). */
  mode?: WorkerMode
  /** LINK_ID from the container overrides: the link the task was started for (a host's first link). */
  linkId?: string
  /** When it stopped (ISO). A link heart-beaten after this is held by some other worker. */
  stoppedAt: string
  /** Why, in ECS's words (`stopCode: stoppedReason`, e.g. "TaskFailedToStart: CannotPullContainerError: …"), or the exit code locally. Holds no secret. */
  reason: string
}

export interface SettleDeps {
  store: LinkStore
  logger?: Logger
  /** The host registry: a stopped host's links are those listed under `HOST#<hostId>`; its item is removed. */
  registry?: HostRegistry
  /** Hands what can be resumed to a live warm host (never launching one); without it, or cold, links end. */
  dispatcher?: LinkDispatcher
  /** Sends a logout the stopped worker was running to a worker again. */
  requests?: LogoutRequests
  /** Keep offering to warm hosts this long (a host being restarted registers meanwhile). Default 0. */
  patienceMs?: number
}

export interface Settlement {
  linkId: string
  /**
   * What became of the link: `handed_over` (a live host takes it over), `launch_failed` (never
   * claimed), `worker_lost` (claimed by this worker), `logout_retried` (its logout sent again), or
   * `untouched`.
   */
  outcome: 'handed_over' | 'launch_failed' | 'worker_lost' | 'logout_retried' | 'untouched'
}

/** The ECS task id, which is also a warm host's id. */
export const taskIdOf = (taskArn: string) => taskArn.slice(taskArn.lastIndexOf('/') + 1)

const ATTEMPTS = 3

/**
 * settleStoppedTask(task, deps) → Settlement[]
 *
 * Called when a worker process stops — by the task-stopped Lambda in AWS, by `npm start`'s launcher
 * locally — so its links do not wait for the sweepers. The links are its LINK_ID and those listed
 * under `HOST#<hostId>`; a link is the stopped worker's if it holds the lease (`workerId`), or if
 * nobody does and it was assigned to it (listed, or started for it — a link worker's LINK_ID is never
 * a linked link, a logout worker's always is — and no other task was started for it since).
 *
 * A link that can be resumed (never claimed, or waiting for its user) is handed to a live warm host,
 * which takes it over; otherwise it ends: never claimed → `failed/launch_failed`, claimed →
 * `failed/worker_lost`. A logout it was running is sent to a worker again. A link someone heart-beat
 * after the stop is left alone. Each write is conditional on what was read (fence, version,
 * heartbeat); a lost race re-reads and decides again. Then the host item is removed.
 */
export async function settleStoppedTask(task: StoppedTask, deps: SettleDeps): Promise<Settlement[]> {
  const hostId = task.hostId ?? (task.taskArn ? taskIdOf(task.taskArn) : undefined)
  // First, so that none of its links is dispatched back to it (its heartbeat may still look fresh).
  if (hostId && deps.registry) await deps.registry.drain(hostId)
  const listed = new Set(hostId && deps.registry ? ((await deps.registry.read(hostId))?.links ?? []) : [])
  const candidates = new Set([...(task.linkId ? [task.linkId] : []), ...listed])
  const settled: Settlement[] = []
  for (const linkId of candidates) settled.push({ linkId, outcome: await settleLink(linkId, task, hostId, listed.has(linkId), deps) })
  if (hostId && deps.registry) await deps.registry.remove(hostId)
  const changed = settled.filter((s) => s.outcome !== 'untouched')
  if (changed.length) deps.logger?.warn({ hostId, taskArn: task.taskArn, reason: task.reason, settled: changed }, 'settled the links of a stopped worker')
  return settled
}

async function settleLink(linkId: string, task: StoppedTask, hostId: string | undefined, listed: boolean, deps: SettleDeps): Promise<Settlement['outcome']> {
  const { store, dispatcher } = deps
  let offered = false
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const link = await store.get(linkId)
    if (!link || !isOurs(link, task, hostId, listed)) return 'untouched'
    if (link.heartbeatAt !== null && link.heartbeatAt > task.stoppedAt) return 'untouched'
    try {
      if (link.status === 'linked') return link.logoutRequestedAt ? await retryItsLogout(link, deps) : 'untouched'
      if (!isInProgress(link.status)) return 'untouched'
      const neverClaimed = link.status === 'pending' && link.heartbeatAt === null
      if (!offered && dispatcher?.warm && planJob({ ...link, workerId: null }, Date.now()).kind === 'link') {
        offered = true
        // Let go under the stopped worker's fence (a link it never claimed has nothing to let go of).
        if (link.status !== 'pending') await store.update(linkId, { from: [link.status], fence: link.leaseToken, patch: handOverPatch(link, new Date()) })
        if ((await dispatcher.dispatch(linkId, { launch: false, patienceMs: deps.patienceMs ?? 0 })).to === 'host') return 'handed_over'
        continue // no live host took it: end it, as it now is
      }
      const outcome = neverClaimed ? 'launch_failed' : 'worker_lost'
      await store.update(linkId, endLink(link, outcome, task.reason))
      // No worker is left to erase the link's credentials.
      await store.eraseCredentials(linkId)
      return outcome
    } catch (error) {
      if (!(error instanceof StaleLinkError)) throw error
    }
  }
  return 'untouched'
}

/** Its lease, or nobody's while it was assigned to this worker. */
function isOurs(link: Link, task: StoppedTask, hostId: string | undefined, listed: boolean): boolean {
  if (link.workerId) return link.workerId === hostId
  if (listed) return true
  const startedFor = link.id === task.linkId && (task.mode === 'logout') === (link.status === 'linked')
  return startedFor && (!link.taskArn || !task.taskArn || link.taskArn === task.taskArn)
}

/** A logout the stopped worker was running, or was given: let go of its lease and send it again. */
async function retryItsLogout(link: Link, deps: SettleDeps): Promise<Settlement['outcome']> {
  const { store, requests, dispatcher, logger } = deps
  if (!requests || !dispatcher) return 'untouched'
  if (link.workerId) await store.update(link.id, { from: ['linked'], fence: link.leaseToken, patch: { workerId: null } })
  const outcome = await retryLogout({ store, requests, dispatch: (linkId) => dispatcher.launch({ linkId, mode: 'logout' }), logger }, link.id, { force: true })
  return outcome === 'dispatched' || outcome === 'given_up' ? 'logout_retried' : 'untouched'
}

function endLink(link: Link, outcome: 'launch_failed' | 'worker_lost', reason: string) {
  return {
    from: outcome === 'launch_failed' ? (['pending'] as const) : IN_PROGRESS_STATUSES,
    to: endingStatus(outcome),
    version: link.version,
    heartbeatAt: link.heartbeatAt,
    patch: {
      qr: null,
      pairingCode: null,
      error: linkEnding(outcome, outcome === 'launch_failed' ? `Its worker stopped before it started: ${reason}` : `Its worker stopped: ${reason}`),
    },
  }
}
