import type { Link } from '../link/link.ts'
import { canTransition, IN_PROGRESS_STATUSES, isInProgress, type LinkStatus } from '../link/status.ts'
import { activitySortKey, ttlFor } from './link-item.ts'
import { ACTIVITY_SORT, tableDefinition as T } from './table.ts'

/** Fields a write may change; identity, metadata and bookkeeping are fixed at creation or the store's own. */
export type LinkPatch = Partial<
  Omit<Link, 'id' | 'tenantId' | 'createdAt' | 'version' | 'status' | 'clientTokenHashes' | 'metadata' | 'relinkOf' | 'relinkedTo'>
>

export interface LinkUpdate {
  /** The write succeeds only while the link is in one of these statuses. */
  from: readonly LinkStatus[]
  /** The new status; every `from → to` must be allowed by the state machine. */
  to?: LinkStatus
  patch?: LinkPatch
  /** Fencing token: the write succeeds only while the lease is still this one. */
  fence?: number
  /** Optimistic concurrency: the write succeeds only at this version. */
  version?: number
  /**
   * The write succeeds only while the last heartbeat is still this one (`null`: never claimed).
   * Heartbeats do not move `version` (they are not a visible change), so a writer that decides
   * from a quiet heartbeat (the sweeper) conditions on the heartbeat it read as well.
   */
  heartbeatAt?: string | null
  /** Increment the fencing token: the writer becomes the lease holder. */
  takeLease?: boolean
}

/** One conditional UpdateItem of a link item, before the store adds "the item exists". */
export interface ConditionalWrite {
  expression: string
  conditions: string[]
  names: Record<string, string>
  values: Record<string, unknown>
}

/** `#status IN (:<prefix>0, …)`, its values added to `values`. */
export function statusIn(statuses: readonly LinkStatus[], values: Record<string, unknown>, prefix: string): string {
  statuses.forEach((s, i) => (values[`:${prefix}${i}`] = s))
  return `#status IN (${statuses.map((_, i) => `:${prefix}${i}`).join(', ')})`
}

/**
 * What a write changes besides its own fields: leaving the in-progress statuses moves the link
 * out of the activity index and sets (or, once linked, removes) its TTL; a claim moves it within
 * the index. `undefined` values are removed.
 */
function derivedAttributes(update: LinkUpdate, now: Date): Record<string, unknown> {
  if (update.to && !isInProgress(update.to)) {
    return {
      [T.activityIndex.partitionKey]: undefined,
      [T.activityIndex.sortKey]: undefined,
      [T.ttlAttribute]: ttlFor({ status: update.to, expiresAt: now.toISOString() }, now),
    }
  }
  const heartbeat = update.patch?.heartbeatAt
  return heartbeat && update.from.every(isInProgress) ? { [T.activityIndex.sortKey]: `${ACTIVITY_SORT.claimed}${heartbeat}` } : {}
}

/**
 * The conditional write of LinkStore.update: every change bumps `version` and `updatedAt`, and holds
 * only while the status is one of `from` (and the lease, version and heartbeat as given). Refuses a
 * transition the state machine does not allow.
 */
export function linkUpdateWrite(update: LinkUpdate, now: Date): ConditionalWrite {
  if (update.to) for (const from of update.from) {
    if (!canTransition(from, update.to)) throw new Error(`Illegal transition ${from} → ${update.to}`)
  }
  if (update.from.length === 0) throw new Error('update.from must name at least one status')
  const names: Record<string, string> = { '#status': 'status', '#version': 'version', '#updatedAt': 'updatedAt' }
  const values: Record<string, unknown> = { ':one': 1, ':now': now.toISOString() }
  const sets = ['#version = #version + :one', '#updatedAt = :now']
  const removes: string[] = []
  const fields: Record<string, unknown> = { ...update.patch, ...derivedAttributes(update, now) }
  if (update.to) fields.status = update.to
  Object.entries(fields).forEach(([field, value], i) => {
    names[`#f${i}`] = field
    if (value === undefined) return removes.push(`#f${i}`)
    values[`:f${i}`] = value
    sets.push(`#f${i} = :f${i}`)
  })
  const conditions = [statusIn(update.from, values, 'from')]
  if (update.takeLease) {
    names['#lease'] = 'leaseToken'
    sets.push('#lease = #lease + :one')
  }
  if (update.fence !== undefined) {
    names['#lease'] = 'leaseToken'
    values[':fence'] = update.fence
    conditions.push('#lease = :fence')
  }
  if (update.version !== undefined) {
    values[':version'] = update.version
    conditions.push('#version = :version')
  }
  if (update.heartbeatAt !== undefined) {
    names['#hb'] = 'heartbeatAt'
    values[':hb'] = update.heartbeatAt
    conditions.push('#hb = :hb')
  }
  return { expression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`, conditions, names, values }
}

/**
 * A worker's sign of life: the heartbeat and the link's place in the activity index, nothing else
 * (no `version`, no `updatedAt`, no other index). Holds only under the lease and while in progress.
 */
export function heartbeatWrite(fence: number, at: string): ConditionalWrite {
  const names = { '#hb': 'heartbeatAt', '#ask': T.activityIndex.sortKey, '#lease': 'leaseToken', '#status': 'status' }
  const values: Record<string, unknown> = { ':hb': at, ':ask': activitySortKey({ heartbeatAt: at, createdAt: '' }), ':fence': fence }
  return { expression: 'SET #hb = :hb, #ask = :ask', conditions: ['#lease = :fence', statusIn(IN_PROGRESS_STATUSES, values, 'live')], names, values }
}
