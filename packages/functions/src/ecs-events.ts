import { WORKER_MODES } from '@wa-link-broker/core/launcher'
import type { StoppedTask } from '@wa-link-broker/core/settle'

/** The parts of an EventBridge "ECS Task State Change" event this service reads. */
export interface EcsTaskStateChange {
  source?: string
  'detail-type'?: string
  detail?: {
    taskArn?: string
    clusterArn?: string
    lastStatus?: string
    startedBy?: string
    group?: string
    stoppedAt?: string
    stopCode?: string
    stoppedReason?: string
    overrides?: { containerOverrides?: { name?: string; environment?: { name?: string; value?: string }[] }[] }
  }
  time?: string
}

/**
 * The stopped worker task an event describes, or null when it describes anything else. LINK_ID and
 * WORKER_MODE come from the task's container overrides (as the API's RunTask set them); a task
 * the warm-host service started carries none, and is a host by definition (its group is `service:…`).
 */
export function stoppedTaskOf(event: EcsTaskStateChange): StoppedTask | null {
  const d = event.detail
  if (event.source !== 'aws.ecs' || event['detail-type'] !== 'ECS Task State Change' || d?.lastStatus !== 'STOPPED' || !d.taskArn) return null
  const env = Object.fromEntries((d.overrides?.containerOverrides ?? []).flatMap((c) => c.environment ?? []).map((e) => [e.name, e.value]))
  const mode = WORKER_MODES.find((m) => m === env.WORKER_MODE) ?? (d.group?.startsWith('service:') ? 'host' : env.LINK_ID ? 'link' : undefined)
  return {
    taskArn: d.taskArn,
    mode,
    linkId: env.LINK_ID || undefined,
    stoppedAt: d.stoppedAt ?? event.time ?? new Date().toISOString(),
    reason: [d.stopCode, d.stoppedReason].filter(Boolean).join(': ') || 'no reason given',
  }
}
