import { ECSClient } from '@aws-sdk/client-ecs'
import { afterAll, describe, expect, it } from 'vitest'
import { EcsLauncher } from '@wa-link-broker/core'
import { startTestApi, type TestApi } from '../support/api.ts'
import { localClientConfig, startAwsJsonServer, type AwsJsonReply } from '../fixtures/aws-json-server.ts'

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
