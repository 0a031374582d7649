import type { Logger } from 'pino'
import type { WorkerMode } from './launcher.ts'
import { linkEnding } from './link/endings.ts'
import type { Link } from './link/link.ts'
import { IN_PROGRESS_STATUSES, isInProgress } from './link/status.ts'
import { StaleLinkError, type LinkStore } from './store/link-store.ts'

/** A worker task that stopped, as ECS reports it (an EventBridge "ECS Task State Change", lastStatus STOPPED). */
export interface StoppedTask {
  taskArn: string
  /** WORKER_MODE from the task's container overrides; undefined when it ran its definition's default (a warm-host service task). */
  mode?: WorkerMode
  /** LINK_ID from the container overrides: the link the task was started for (a host's first link). */
  linkId?: string
  /** When ECS stopped it (ISO). A link heart-beaten after this is held by some other worker. */
  stoppedAt: string
  /** Why, in ECS's words (`stopCode: stoppedReason`, e.g. "TaskFailedToStart: CannotPullContainerError: …"). Holds no secret. */
  reason: string
}

export interface SettleDeps {
  store: LinkStore
  logger?: Logger
  /**
   * The links a warm host held: the `HOST#<hostId>` item of the host registry, hostId = the ECS task
   * id (the ARN's last segment). Absent until warm hosts exist; then a stopped host settles all of them.
   */
  hostLinks?: (hostId: string) => Promise<string[]>
}

export interface Settlement {
  linkId: string
  /** What the link became: `launch_failed` (never claimed), `worker_lost` (claimed by this task), or `untouched`. */
  outcome: 'launch_failed' | 'worker_lost' | 'untouched'
}

/** The ECS task id, which is also a warm host's id. */
export const taskIdOf = (taskArn: string) => taskArn.slice(taskArn.lastIndexOf('/') + 1)

const ATTEMPTS = 3

/**
 * settleStoppedTask(task, { store, logger?, hostLinks? }) → Settlement[]
 *
 * Called when a worker task stops. Every link the task held that is still in progress ends at once
 * (rather than after the sweeper's grace): never claimed → `failed/launch_failed` (the task never
 * got as far as the link: image pull, network, quota…), claimed → `failed/worker_lost`. The links
 * are the task's LINK_ID and, for a warm host, those listed under `HOST#<task id>`. Logout tasks
 * leave their (linked) link alone. A link is left untouched when another task was started for it
 * since, or someone heart-beat it after the stop. Each write is conditional on what was read (version
 * and heartbeat); a lost race re-reads and decides again.
 */
export async function settleStoppedTask(task: StoppedTask, deps: SettleDeps): Promise<Settlement[]> {
  if (task.mode === 'logout') return []
  const held = new Set<string>()
  if (task.mode === 'host' && deps.hostLinks) for (const id of await deps.hostLinks(taskIdOf(task.taskArn))) held.add(id)
  const candidates = new Set([...(task.linkId ? [task.linkId] : []), ...held])
  const settled: Settlement[] = []
  for (const linkId of candidates) settled.push({ linkId, outcome: await settleLink(linkId, task, held.has(linkId), deps) })
  return settled
}

async function settleLink(linkId: string, task: StoppedTask, heldByHost: boolean, deps: SettleDeps): Promise<Settlement['outcome']> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const link = await deps.store.get(linkId)
    if (!link || !isInProgress(link.status)) return 'untouched'
    const ours = heldByHost || !link.taskArn || link.taskArn === task.taskArn
    const aliveSince = link.heartbeatAt !== null && link.heartbeatAt > task.stoppedAt
    if (!ours || aliveSince) return 'untouched'
    const outcome = link.status === 'pending' && link.heartbeatAt === null ? 'launch_failed' : 'worker_lost'
    try {
      await deps.store.update(linkId, endLink(link, outcome, task.reason))
    } catch (error) {
      if (error instanceof StaleLinkError) continue
      throw error
    }
    // No worker is left to erase the link's credentials.
    await deps.store.eraseCredentials(linkId)
    deps.logger?.warn({ linkId, taskArn: task.taskArn, code: outcome, reason: task.reason }, 'a worker task stopped; its link ended')
    return outcome
  }
  return 'untouched'
}

function endLink(link: Link, outcome: 'launch_failed' | 'worker_lost', reason: string) {
  return {
    from: outcome === 'launch_failed' ? (['pending'] as const) : IN_PROGRESS_STATUSES,
    to: 'failed' as const,
    version: link.version,
    heartbeatAt: link.heartbeatAt,
    patch: {
      qr: null,
      pairingCode: null,
      error: linkEnding(outcome, outcome === 'launch_failed' ? `Its task stopped before it started: ${reason}` : `Its task stopped: ${reason}`),
    },
  }
}
