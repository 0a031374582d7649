import { ECSClient } from '@aws-sdk/client-ecs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HostRegistry } from '@wa-link-broker/core/hosts'
import { EcsLauncher } from '@wa-link-broker/core/launchers/ecs'
import { taskIdOf } from '@wa-link-broker/core/settle'
import { LinkStore } from '@wa-link-broker/core/store'
import { taskStoppedHandler } from '../../packages/functions/src/task-stopped.ts'
import { localClientConfig } from '../fixtures/aws-json-server.ts'
import { taskStoppedEvent } from '../fixtures/ecs-events.ts'
import { envOf, startFakeEcs, type FakeTask } from '../fixtures/fake-ecs.ts'
import { startTestApi, type TestApi } from '../support/api.ts'

/**
 * The task-stopped Lambda's handler, driven with the EventBridge event ECS sends when a worker task
 * stops, against the API (real HTTP), DynamoDB Local and an ECS-protocol fake the API's RunTask went to.
 */
const CLUSTER = 'arn:aws:ecs:us-east-1:111122223333:cluster/wa'
let api: TestApi
let ecs: Awaited<ReturnType<typeof startFakeEcs>>
let store: LinkStore
let key: string
let handle: ReturnType<typeof taskStoppedHandler>
let registry: HostRegistry

beforeAll(async () => {
  ecs = await startFakeEcs()
  api = await startTestApi({
    launcher: (logger) =>
      new EcsLauncher({
        ecs: new ECSClient(localClientConfig(ecs.endpoint)),
        cluster: CLUSTER,
        taskDefinition: 'arn:aws:ecs:us-east-1:111122223333:task-definition/wa-worker:3',
        subnets: ['subnet-1'],
        securityGroups: ['sg-1'],
        assignPublicIp: true,
        containerName: 'Worker',
        logger,
      }),
  })
  store = new LinkStore(api.doc, api.tableName)
  key = await api.newTenantKey('acme')
  registry = new HostRegistry(api.doc, api.tableName)
  handle = taskStoppedHandler({ store, registry, logger: api.logger })
})
afterAll(async () => {
  await api?.close()
  await ecs?.close()
})

async function startLink(): Promise<{ id: string; clientToken: string; task: FakeTask }> {
  const { link, clientToken } = await (await api.request('/v1/links', { method: 'POST', key, json: {} })).json()
  const [task] = ecs.tasksFor(link.id)
  return { id: link.id, clientToken, task }
}
const eventFor = (task: FakeTask, more: Parameters<typeof taskStoppedEvent>[0] extends infer T ? Partial<T> : never = {}) =>
  taskStoppedEvent({ taskArn: task.taskArn, clusterArn: task.clusterArn, taskDefinitionArn: task.taskDefinitionArn, environment: envOf(task), createdAt: task.createdAt, ...more })

describe('a worker task stops', () => {
  it('before claiming its link: the link reads failed/launch_failed within seconds, with ECS’s reason', async () => {
    const { id, clientToken, task } = await startLink()
    expect((await store.get(id))!.taskArn).toBe(task.taskArn)
    const stoppedAt = Date.now()
    const settled = await handle(eventFor(task, { stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)' }))
    expect(settled).toEqual([{ linkId: id, outcome: 'launch_failed' }])
    const view = await (await api.request(`/v1/links/${id}`, { key: clientToken })).json()
    expect(Date.now() - stoppedAt).toBeLessThan(5_000)
    expect(view).toMatchObject({ status: 'failed', error: { code: 'launch_failed' } })
    expect(view.error.message).toMatch(/TaskFailedToStart: CannotPullContainerError/)
  })

  it('after claiming it: failed/worker_lost', async () => {
    const { id, task } = await startLink()
    const claimed = await store.claim(id, ['pending'], 'starting')
    await store.update(id, { from: ['starting'], to: 'awaiting_scan', fence: claimed.leaseToken })
    expect(await handle(eventFor(task, { startedAt: new Date(Date.now() - 30_000) }))).toEqual([{ linkId: id, outcome: 'worker_lost' }])
    expect(await store.get(id)).toMatchObject({ status: 'failed', error: { code: 'worker_lost' } })
  })

  it('after its worker ended the link itself (SIGTERM → worker_stopped): nothing changes', async () => {
    const { id, task } = await startLink()
    const claimed = await store.claim(id, ['pending'], 'starting')
    const ended = await store.update(id, { from: ['starting'], to: 'failed', fence: claimed.leaseToken, patch: { error: { code: 'worker_stopped', message: 'x' } } })
    expect(await handle(eventFor(task))).toEqual([{ linkId: id, outcome: 'untouched' }])
    expect(await store.get(id)).toEqual(ended)
  })

  it('when another task runs the link since, or the link heart-beat after the stop: nothing changes', async () => {
    const a = await startLink()
    await store.recordTask(a.id, `${CLUSTER.replace(':cluster/', ':task/')}/newer`)
    expect(await handle(eventFor(a.task))).toEqual([{ linkId: a.id, outcome: 'untouched' }])

    const b = await startLink()
    const claimed = await store.claim(b.id, ['pending'], 'starting')
    await new Promise((r) => setTimeout(r, 5))
    await store.heartbeat(b.id, { fence: claimed.leaseToken })
    expect(await handle(eventFor(b.task, { stoppedAt: new Date(Date.parse(claimed.heartbeatAt!) + 1) }))).toEqual([{ linkId: b.id, outcome: 'untouched' }])
    expect((await store.get(b.id))!.status).toBe('starting')
  })

  it('a warm host: every link listed under HOST#<task id> that is still in progress ends worker_lost', async () => {
    const [x, y, z] = [await startLink(), await startLink(), await startLink()]
    for (const l of [x, y]) await store.claim(l.id, ['pending'], 'starting')
    const hostArn = `${CLUSTER.replace(':cluster/', ':task/')}/0123456789abcdef0123456789abcdef`
    await registry.register({ id: taskIdOf(hostArn), capacity: 50, links: [x.id, y.id], listed: true })
    await store.update(y.id, { from: ['starting'], to: 'cancelled' })
    const settled = await handle(taskStoppedEvent({ taskArn: hostArn, clusterArn: CLUSTER, startedBy: 'ecs-svc/1', group: 'service:WorkerHosts' }))
    // (A string set has no order.)
    expect(new Map(settled.map((s) => [s.linkId, s.outcome]))).toEqual(new Map([[x.id, 'worker_lost'], [y.id, 'untouched']]))
    expect((await store.get(z.id))!.status).toBe('pending')
    expect(await registry.read(taskIdOf(hostArn))).toBeNull()
  })

  it('a logout task leaves a link that is not linked alone; an event that is not a stopped task is ignored', async () => {
    const { id, task } = await startLink()
    expect(await handle(eventFor(task, { environment: { LINK_ID: id, WORKER_MODE: 'logout' } }))).toEqual([{ linkId: id, outcome: 'untouched' }])
    const running = eventFor(task)
    expect(await handle({ ...running, detail: { ...running.detail, lastStatus: 'RUNNING' } })).toEqual([])
    expect((await store.get(id))!.status).toBe('pending')
  })
})
