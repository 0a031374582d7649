import { randomBytes } from 'node:crypto'

/**
 * The id this process registers under: the one the local launcher chose (WORKER_HOST_ID), else the
 * ECS task id (what ECS's "task stopped" event names, so the settling finds this host's item), else
 * `local-<pid>-<random>` for a worker started by hand.
 */
export async function resolveHostId(configured: string | undefined, env: { ECS_CONTAINER_METADATA_URI_V4?: string }): Promise<string> {
  if (configured) return configured
  const metadata = env.ECS_CONTAINER_METADATA_URI_V4
  if (metadata) {
    const res = await fetch(`${metadata}/task`, { signal: AbortSignal.timeout(5000) })
    if (!res.ok) throw new Error(`ECS task metadata answered ${res.status}`)
    const taskId = taskIdFromArn(String(((await res.json()) as { TaskARN?: unknown }).TaskARN ?? ''))
    if (!taskId) throw new Error('ECS task metadata has no TaskARN')
    return taskId
  }
  return `local-${process.pid}-${randomBytes(4).toString('hex')}`
}

/** `arn:aws:ecs:<region>:<account>:task/<cluster>/<taskId>` (or the old `task/<taskId>`) → `<taskId>`. */
export function taskIdFromArn(arn: string): string | undefined {
  const match = /^arn:aws[\w-]*:ecs:[^:]*:\d*:task\/(?:[^/]+\/)?([A-Za-z0-9-]+)$/.exec(arn)
  return match?.[1]
}
