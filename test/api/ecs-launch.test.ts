import { ECSClient } from '@aws-sdk/client-ecs'
import { afterAll, describe, expect, it } from 'vitest'
import { EcsLauncher } from '@wa-link-broker/core/launchers/ecs'
import { LinkStore } from '@wa-link-broker/core/store'
import { startTestApi, type TestApi } from '../support/api.ts'
import { localClientConfig, startAwsJsonServer, type AwsJsonReply } from '../fixtures/aws-json-server.ts'
import { envOf, startFakeEcs } from '../fixtures/fake-ecs.ts'

const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup()
})

/** The API wired as in AWS, its EcsLauncher talking to a local endpoint that speaks ECS's JSON protocol. */
async function apiWithEcs(reply: () => AwsJsonReply): Promise<{ api: TestApi; calls: { operation: string; input: Record<string, unknown> }[] }> {
  const ecsServer = await startAwsJsonServer(() => reply())
  const api = await startTestApi({
    launcher: (logger) =>
      new EcsLauncher({
        ecs: new ECSClient(localClientConfig(ecsServer.endpoint)),
        cluster: 'wa-cluster',
        taskDefinition: 'arn:aws:ecs:us-east-1:111122223333:task-definition/wa-worker:3',
        subnets: ['subnet-1'],
        securityGroups: ['sg-1'],
        assignPublicIp: true,
        containerName: 'Worker',
        retryDelayMs: 10,
        logger,
      }),
  })
  cleanups.push(() => api.close(), () => ecsServer.close())
  return { api, calls: ecsServer.calls }
}

describe('POST /v1/links with the ECS launcher', () => {
  it('starts one Fargate task for the link, with exactly this RunTask input', async () => {
    const { api, calls } = await apiWithEcs(() => ({ body: { tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:111122223333:task/wa/1' }], failures: [] } }))
    const key = await api.newTenantKey('acme')
    const res = await api.request('/v1/links', { method: 'POST', key, json: {} })
    expect(res.status).toBe(201)
    const { link } = await res.json()
    expect(link.status).toBe('pending')
    expect(calls).toHaveLength(1)
    expect(calls[0].operation).toBe('RunTask')
    const { clientToken, ...input } = calls[0].input
    expect(typeof clientToken).toBe('string')
    expect(input).toEqual({
      cluster: 'wa-cluster',
      taskDefinition: 'arn:aws:ecs:us-east-1:111122223333:task-definition/wa-worker:3',
      launchType: 'FARGATE',
      count: 1,
      startedBy: 'wa-link-broker',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED' } },
      overrides: { containerOverrides: [{ name: 'Worker', environment: [{ name: 'LINK_ID', value: link.id }, { name: 'WORKER_MODE', value: 'link' }] }] },
    })
  })

  it('a failures[] reply, after bounded retries, leaves the link failed/launch_failed with the reason', async () => {
    const { api, calls } = await apiWithEcs(() => ({ body: { tasks: [], failures: [{ arn: 'arn:aws:ecs:us-east-1:111122223333:container-instance/x', reason: 'RESOURCE:MEMORY' }] } }))
    const key = await api.newTenantKey('acme')
    const res = await api.request('/v1/links', { method: 'POST', key, json: {} })
    expect(res.status).toBe(201)
    const { link } = await res.json()
    expect(link).toMatchObject({ status: 'failed', error: { code: 'launch_failed' } })
    expect(link.error.message).toContain('RESOURCE:MEMORY')
    expect(calls.length).toBe(3)
  })
})

describe('DELETE /v1/links/{id} on a linked link, twice', () => {
  it('starts two logout tasks: a retried logout is a new RunTask, not the first one replayed', async () => {
    const ecs = await startFakeEcs()
    const api = await startTestApi({
      launcher: (logger) =>
        new EcsLauncher({
          ecs: new ECSClient(localClientConfig(ecs.endpoint)),
          cluster: 'arn:aws:ecs:us-east-1:111122223333:cluster/wa',
          taskDefinition: 'arn:aws:ecs:us-east-1:111122223333:task-definition/wa-worker:3',
          subnets: ['subnet-1'],
          securityGroups: ['sg-1'],
          assignPublicIp: true,
          containerName: 'Worker',
          logger,
        }),
    })
    cleanups.push(() => api.close(), () => ecs.close())
    const key = await api.newTenantKey('acme')
    const { link } = await (await api.request('/v1/links', { method: 'POST', key, json: {} })).json()
    const store = new LinkStore(api.doc, api.tableName)
    // The task ARN RunTask returned is stored on the link.
    const [linkTask] = ecs.tasksFor(link.id)
    expect((await store.get(link.id))!.taskArn).toBe(linkTask.taskArn)
    const claimed = await store.claim(link.id, ['pending'], 'starting')
    for (const [from, to] of [['starting', 'awaiting_scan'], ['awaiting_scan', 'pairing'], ['pairing', 'linked']] as const) {
      await store.update(link.id, { from: [from], to, fence: claimed.leaseToken })
    }

    for (let i = 0; i < 2; i++) expect((await api.request(`/v1/links/${link.id}`, { method: 'DELETE', key })).status).toBe(202)
    const logouts = ecs.tasksFor(link.id).filter((t) => envOf(t).WORKER_MODE === 'logout')
    expect(logouts).toHaveLength(2)
    expect(logouts[0].taskArn).not.toBe(logouts[1].taskArn)
    expect(logouts[0].clientToken).not.toBe(logouts[1].clientToken)
    expect((await store.get(link.id))!.taskArn).toBe(logouts[1].taskArn)
  })
})

describe('a burst of POST /v1/links while ECS throttles a third of the calls', () => {
  it('starts all 50 links (none launch_failed), one task each', async () => {
    const ecs = await startFakeEcs({ throttle: (_call, i) => i % 9 < 3 })
    const api = await startTestApi({
      launcher: (logger) =>
        new EcsLauncher({
          ecs: new ECSClient(localClientConfig(ecs.endpoint)),
          cluster: 'arn:aws:ecs:us-east-1:111122223333:cluster/wa',
          taskDefinition: 'arn:aws:ecs:us-east-1:111122223333:task-definition/wa-worker:3',
          subnets: ['subnet-1'],
          securityGroups: ['sg-1'],
          assignPublicIp: true,
          containerName: 'Worker',
          logger,
        }),
    })
    cleanups.push(() => api.close(), () => ecs.close())
    const key = await api.newTenantKey('acme')
    const created = await Promise.all(Array.from({ length: 50 }, () => api.request('/v1/links', { method: 'POST', key, json: {} }).then((r) => r.json())))
    expect(created.map((c) => c.link.status)).toEqual(new Array(50).fill('pending'))
    for (const { link } of created) expect(ecs.tasksFor(link.id)).toHaveLength(1)
    expect(ecs.calls.filter((c) => c.operation === 'RunTask' && ecs.tasks.every((t) => t.clientToken !== c.input.clientToken))).toHaveLength(0)
  }, 60_000)
})
