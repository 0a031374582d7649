import { ECSClient } from '@aws-sdk/client-ecs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WorkerMode } from '@wa-link-broker/core/launcher'
import { EcsLauncher, stopOrphanedTasks } from '@wa-link-broker/core/launchers/ecs'
import { newLinkId, type Link, type LinkStatus } from '@wa-link-broker/core/link'
import { LinkStore } from '@wa-link-broker/core/store'
import { localClientConfig } from '../fixtures/aws-json-server.ts'
import { startFakeEcs } from '../fixtures/fake-ecs.ts'
import { createTestTable } from '../support/store.ts'

const CLUSTER = 'arn:aws:ecs:us-east-1:111122223333:cluster/wa'
let ecs: Awaited<ReturnType<typeof startFakeEcs>>
let client: ECSClient
let store: LinkStore
let launcher: EcsLauncher

beforeAll(async () => {
  ecs = await startFakeEcs()
  client = new ECSClient(localClientConfig(ecs.endpoint))
  const { doc, tableName } = await createTestTable('orphans')
  store = new LinkStore(doc, tableName)
  launcher = new EcsLauncher({ ecs: client, cluster: CLUSTER, taskDefinition: 'arn:aws:ecs:us-east-1:111122223333:task-definition/w:1', subnets: ['s'], securityGroups: ['g'], assignPublicIp: true, containerName: 'Worker' })
})
afterAll(() => ecs?.close())

async function linkWithTask(status: LinkStatus | null, mode: WorkerMode, overrides: Partial<Link> = {}) {
  const id = newLinkId()
  if (status) {
    const now = new Date().toISOString()
    await store.create({
      id, tenantId: 't', status, method: 'qr', phoneNumber: null, qr: null, pairingCode: null, account: null, error: null, metadata: {}, webhookUrl: null,
      createdAt: now, updatedAt: now, expiresAt: new Date(Date.now() + 300_000).toISOString(), version: 1, leaseToken: 0, heartbeatAt: null, clientTokenHashes: [],
      ...overrides,
    })
  }
  const { taskArn } = await launcher.launch({ linkId: id, mode })
  return { id, taskArn: taskArn! }
}

describe('stopOrphanedTasks (ListTasks by startedBy → DescribeTasks → StopTask)', () => {
  it('stops exactly the workers that outlived their link by more than the grace, never a warm host', async () => {
    const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString()
    const live = await linkWithTask('awaiting_scan', 'link')
    const endedLongAgo = await linkWithTask('failed', 'link', { updatedAt: minutesAgo(5) })
    const endedJustNow = await linkWithTask('cancelled', 'link')
    const pastDeadline = await linkWithTask('awaiting_scan', 'link', { expiresAt: minutesAgo(3) })
    const linkedLongAgo = await linkWithTask('linked', 'link', { updatedAt: minutesAgo(3) })
    const gone = await linkWithTask(null, 'link')
    const loggingOut = await linkWithTask('linked', 'logout')
    const loggedOut = await linkWithTask('unlinked', 'logout', { updatedAt: minutesAgo(2) })
    const host = await linkWithTask('failed', 'host', { updatedAt: minutesAgo(30) })
    // Tasks this service did not start are not listed (startedBy).
    ecs.tasks.push({ ...ecs.tasks[0], taskArn: `${CLUSTER.replace(':cluster/', ':task/')}/foreign`, startedBy: 'someone-else', clientToken: undefined })

    const before = ecs.calls.length
    // 30 s on: the task of the link that is gone, and the link that just ended, are still within the 60 s grace.
    const result = await stopOrphanedTasks({ ecs: client, cluster: CLUSTER, store, now: new Date(Date.now() + 30_000) })
    const stoppedArns = ecs.calls.slice(before).filter((c) => c.operation === 'StopTask').map((c) => c.input.task)
    expect(new Set(stoppedArns)).toEqual(new Set([endedLongAgo.taskArn, pastDeadline.taskArn, linkedLongAgo.taskArn, loggedOut.taskArn]))
    expect(result).toEqual({ stopped: 4 })
    for (const t of [live, endedJustNow, gone, loggingOut, host]) expect(ecs.tasks.find((x) => x.taskArn === t.taskArn)!.desiredStatus).toBe('RUNNING')
    const stop = ecs.calls.slice(before).find((c) => c.operation === 'StopTask' && c.input.task === endedLongAgo.taskArn)!
    expect(stop.input).toEqual({ cluster: CLUSTER, task: endedLongAgo.taskArn, reason: `wa-link-broker: link ${endedLongAgo.id} is failed` })
    const list = ecs.calls.slice(before).find((c) => c.operation === 'ListTasks')!
    expect(list.input).toEqual({ cluster: CLUSTER, startedBy: 'wa-link-broker', desiredStatus: 'RUNNING' })

    // Later, the task of the link that is gone and the just-ended one are past their grace too.
    const later = await stopOrphanedTasks({ ecs: client, cluster: CLUSTER, store, now: new Date(Date.now() + 5 * 60_000) })
    expect(later).toEqual({ stopped: 2 })
    for (const t of [gone, endedJustNow]) expect(ecs.tasks.find((x) => x.taskArn === t.taskArn)!.desiredStatus).toBe('STOPPED')
    for (const t of [live, loggingOut, host]) expect(ecs.tasks.find((x) => x.taskArn === t.taskArn)!.desiredStatus).toBe('RUNNING')
  })
})
