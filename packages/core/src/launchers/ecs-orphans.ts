import { DescribeTasksCommand, paginateListTasks, StopTaskCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs'
import type { Logger } from 'pino'
import { effectiveStatus } from '../link/link.ts'
import { isInProgress } from '../link/status.ts'
import type { LinkStore } from '../store/link-store.ts'
import { ECS_STARTED_BY } from './ecs-names.ts'

export interface OrphanSweepOptions {
  ecs: ECSClient
  cluster: string
  store: LinkStore
  now?: Date
  /** How long a worker may outlive its link before it is stopped (it normally exits within seconds). */
  graceMs?: number
  /** A logout worker still running after this long is stopped whatever its link says. */
  logoutMaxMs?: number
  logger?: Logger
}

export const DEFAULT_ORPHAN_GRACE_MS = 60_000
export const DEFAULT_LOGOUT_MAX_MS = 15 * 60_000

/** The environment a task was started with (its container overrides). */
export function overrideEnv(task: Pick<Task, 'overrides'>): Record<string, string> {
  return Object.fromEntries((task.overrides?.containerOverrides ?? []).flatMap((c) => c.environment ?? []).map((e) => [e.name ?? '', e.value ?? '']))
}

/**
 * Stops worker tasks that outlive their link, so a hung worker never bills forever: every running
 * task this service started (ListTasks by startedBy → DescribeTasks) whose LINK_ID names a link that
 * is over (final, linked, past its deadline, or gone) for longer than the grace. A logout task's link
 * is linked while it works; it is stopped once the link is no longer linked, or after
 * `logoutMaxMs`. Warm hosts (WORKER_MODE=host) are never stopped here: their links come and go.
 */
export async function stopOrphanedTasks(options: OrphanSweepOptions): Promise<{ stopped: number }> {
  const { ecs, cluster, store, logger } = options
  const now = (options.now ?? new Date()).getTime()
  const grace = options.graceMs ?? DEFAULT_ORPHAN_GRACE_MS
  const arns: string[] = []
  for await (const page of paginateListTasks({ client: ecs }, { cluster, startedBy: ECS_STARTED_BY, desiredStatus: 'RUNNING' })) arns.push(...(page.taskArns ?? []))
  let stopped = 0
  for (let i = 0; i < arns.length; i += 100) {
    const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }))
    for (const task of tasks) {
      const { LINK_ID: linkId, WORKER_MODE: mode = 'link' } = overrideEnv(task)
      if (!linkId || mode === 'host' || !task.taskArn) continue
      const why = await orphaned(linkId, mode, task, now, grace, options.logoutMaxMs ?? DEFAULT_LOGOUT_MAX_MS, store)
      if (!why) continue
      await ecs.send(new StopTaskCommand({ cluster, task: task.taskArn, reason: `wa-link-broker: ${why}`.slice(0, 255) }))
      stopped++
      logger?.warn({ linkId, taskArn: task.taskArn, mode, why }, 'stopped a worker task that outlived its link')
    }
  }
  return { stopped }
}

/** Why the task should stop, or null while it may still be doing its job. */
async function orphaned(linkId: string, mode: string, task: Task, now: number, grace: number, logoutMax: number, store: LinkStore): Promise<string | null> {
  const age = now - (task.createdAt?.getTime() ?? now)
  const link = await store.get(linkId)
  if (!link) return age > grace ? `link ${linkId} is gone` : null
  if (mode === 'logout') {
    if (link.status === 'linked') return age > logoutMax ? `logout of ${linkId} ran over ${Math.round(logoutMax / 60_000)} min` : null
    return now - Date.parse(link.updatedAt) > grace ? `link ${linkId} is ${link.status}` : null
  }
  const { status } = effectiveStatus(link, new Date(now))
  if (isInProgress(status)) return null
  const endedAt = isInProgress(link.status) ? Date.parse(link.expiresAt) : Date.parse(link.updatedAt)
  return now - endedAt > grace ? `link ${linkId} is ${status}` : null
}
