import { afterEach, describe, expect, it } from 'vitest'
import { ECSClient } from '@aws-sdk/client-ecs'
import { LaunchError } from '@wa-link-broker/core/launcher'
import { EcsLauncher, type EcsLauncherOptions } from '@wa-link-broker/core/launchers/ecs'
import { localClientConfig, startAwsJsonServer, type AwsJsonReply } from '../fixtures/aws-json-server.ts'
import { envOf, startFakeEcs } from '../fixtures/fake-ecs.ts'

const TASK_DEFINITION = 'arn:aws:ecs:us-east-1:111122223333:task-definition/wa-worker:7'
const started = (n: number): AwsJsonReply => ({
  body: { tasks: [{ taskArn: `arn:aws:ecs:us-east-1:111122223333:task/wa/${n}`, lastStatus: 'PROVISIONING' }], failures: [] },
})
const noCapacity: AwsJsonReply = {
  body: { tasks: [], failures: [{ arn: 'arn:aws:ecs:us-east-1:111122223333:cluster/wa', reason: 'RESOURCE:MEMORY', detail: 'no capacity in us-east-1a' }] },
}
const throttled: AwsJsonReply = { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } }

const servers: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

/** A fake ECS answering each RunTask with the next scripted reply (the last one repeats). */
async function fakeEcs(script: AwsJsonReply[], clientOptions: { maxAttempts?: number } = { maxAttempts: 1 }) {
  let served = 0
  const server = await startAwsJsonServer(({ target }) => {
    if (target !== 'AmazonEC2ContainerServiceV20141113.RunTask') return { status: 400, body: { __type: 'UnknownOperationException', message: target } }
    return script[Math.min(served++, script.length - 1)]
  })
  servers.push(server)
  const ecs = new ECSClient({ ...localClientConfig(server.endpoint), ...clientOptions })
  const launcher = (overrides: Partial<EcsLauncherOptions> = {}) =>
    new EcsLauncher({
      ecs,
      cluster: 'wa-cluster',
      taskDefinition: TASK_DEFINITION,
      subnets: ['subnet-a', 'subnet-b'],
      securityGroups: ['sg-1'],
      assignPublicIp: true,
      containerName: 'worker',
      retryDelayMs: 5,
      ...overrides,
    })
  return { server, launcher }
}

describe('EcsLauncher against an ECS-protocol server', () => {
  it('sends the exact RunTask request', async () => {
    const { server, launcher } = await fakeEcs([started(1)])
    await launcher().launch({ linkId: 'lnk_abc', mode: 'link' })
    expect(server.calls).toHaveLength(1)
    const { input, headers } = server.calls[0]
    expect(headers['x-amz-target']).toBe('AmazonEC2ContainerServiceV20141113.RunTask')
    expect(headers['content-type']).toBe('application/x-amz-json-1.1')
    expect(input).toEqual({
      cluster: 'wa-cluster',
      taskDefinition: TASK_DEFINITION,
      launchType: 'FARGATE',
      count: 1,
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED' } },
      overrides: {
        containerOverrides: [{ name: 'worker', environment: [{ name: 'LINK_ID', value: 'lnk_abc' }, { name: 'WORKER_MODE', value: 'link' }] }],
      },
      startedBy: 'wa-link-broker',
      clientToken: expect.stringMatching(/^[!-~]{32,64}$/),
    })
  })

  it('starts an overflow warm host from the same task definition: WORKER_MODE=host and its first LINK_ID', async () => {
    const { server, launcher } = await fakeEcs([started(1)])
    await launcher().launch({ linkId: 'lnk_first', mode: 'host' })
    const input = server.calls[0].input as any
    expect(input.taskDefinition).toBe(TASK_DEFINITION)
    expect(input.overrides.containerOverrides).toEqual([{ name: 'worker', environment: [{ name: 'LINK_ID', value: 'lnk_first' }, { name: 'WORKER_MODE', value: 'host' }] }])
  })

  it('disables the public IP when asked and passes the logout mode', async () => {
    const { server, launcher } = await fakeEcs([started(1)])
    await launcher({ assignPublicIp: false }).launch({ linkId: 'lnk_abc', mode: 'logout' })
    const input = server.calls[0].input as any
    expect(input.networkConfiguration.awsvpcConfiguration.assignPublicIp).toBe('DISABLED')
    expect(input.overrides.containerOverrides[0].environment).toContainEqual({ name: 'WORKER_MODE', value: 'logout' })
  })

  it('gives up with a LaunchError naming the reasons after maxPlacements failures[] replies', async () => {
    const { server, launcher } = await fakeEcs([noCapacity])
    const error = await launcher({ maxPlacements: 3 }).launch({ linkId: 'lnk_full', mode: 'link' }).catch((e) => e)
    expect(error).toBeInstanceOf(LaunchError)
    expect(error.message).toMatch(/RESOURCE:MEMORY/)
    expect(error.message).toMatch(/no capacity in us-east-1a/)
    expect(error.message).toMatch(/3 calls/)
    expect(server.calls).toHaveLength(3)
    // Nothing was started, so each new attempt is a new request for ECS.
    expect(new Set(server.calls.map((c) => c.input.clientToken)).size).toBe(3)
  })

  it('succeeds when a failures[] reply is followed by a placed task', async () => {
    const { server, launcher } = await fakeEcs([noCapacity, started(2)])
    await launcher().launch({ linkId: 'lnk_retry', mode: 'link' })
    expect(server.calls).toHaveLength(2)
  })

  it('retries a throttled request under the same client token', async () => {
    const { server, launcher } = await fakeEcs([throttled, started(3)])
    await launcher().launch({ linkId: 'lnk_throttled', mode: 'link' })
    expect(server.calls).toHaveLength(2)
    expect(server.calls[1].input.clientToken).toBe(server.calls[0].input.clientToken)
  })

  it('keeps retrying throttling until its time budget is spent, then fails naming the throttling', async () => {
    const { server, launcher } = await fakeEcs([throttled])
    const started = Date.now()
    const error = await launcher({ budgetMs: 400, retryDelayMs: 20, maxDelayMs: 40 }).launch({ linkId: 'lnk_storm', mode: 'link' }).catch((e) => e)
    const took = Date.now() - started
    expect(error).toBeInstanceOf(LaunchError)
    expect(error.message).toMatch(/ThrottlingException/)
    // Not a fixed number of attempts: as many as the budget allows, all under one token.
    expect(server.calls.length).toBeGreaterThan(5)
    expect(new Set(server.calls.map((c) => c.input.clientToken)).size).toBe(1)
    expect(took).toBeGreaterThanOrEqual(300)
    expect(took).toBeLessThan(1500)
  })

  it('succeeds after throttling with a default SDK client too', async () => {
    const { server, launcher } = await fakeEcs([throttled, started(4)], {})
    await launcher().launch({ linkId: 'lnk_sdk_retry', mode: 'link' })
    expect(server.calls).toHaveLength(2)
  })

  it('fails at once on an error that retrying cannot fix', async () => {
    const { server, launcher } = await fakeEcs([{ status: 400, body: { __type: 'ClientException', message: 'Task definition does not exist.' } }])
    const error = await launcher().launch({ linkId: 'lnk_bad', mode: 'link' }).catch((e) => e)
    expect(error).toBeInstanceOf(LaunchError)
    expect(error.message).toMatch(/ClientException: Task definition does not exist/)
    expect(server.calls).toHaveLength(1)
  })
})

describe('EcsLauncher against a stateful ECS (clientToken idempotency, throttling)', () => {
  const launcherFor = (endpoint: string, clientOptions: { maxAttempts?: number } = {}) =>
    new EcsLauncher({
      ecs: new ECSClient({ ...localClientConfig(endpoint), ...clientOptions }),
      cluster: 'arn:aws:ecs:us-east-1:111122223333:cluster/wa',
      taskDefinition: TASK_DEFINITION,
      subnets: ['subnet-a'],
      securityGroups: ['sg-1'],
      assignPublicIp: true,
      containerName: 'Worker',
      retryDelayMs: 10,
      maxDelayMs: 200,
    })

  it('starts a new task for each launch of the same link (a fresh clientToken per launch)', async () => {
    const ecs = await startFakeEcs()
    servers.push(ecs)
    const launcher = launcherFor(ecs.endpoint)
    const first = await launcher.launch({ linkId: 'lnk_twice', mode: 'logout' })
    const second = await launcher.launch({ linkId: 'lnk_twice', mode: 'logout' })
    expect(ecs.tasksFor('lnk_twice')).toHaveLength(2)
    expect(first.taskArn).not.toBe(second.taskArn)
    const tokens = ecs.calls.map((c) => c.input.clientToken)
    expect(new Set(tokens).size).toBe(2)
  })

  it('50 concurrent launches with a third of all calls throttled all start, each exactly once', async () => {
    // A third of all calls to ECS, the SDK's own retries included, are refused with ThrottlingException,
    // in runs of three (more than a default SDK client retries on its own).
    const ecs = await startFakeEcs({ throttle: (_call, i) => i % 9 < 3 })
    servers.push(ecs)
    const launcher = launcherFor(ecs.endpoint)
    const ids = Array.from({ length: 50 }, (_, i) => `lnk_burst_${i}`)
    const outcomes = await Promise.all(ids.map((linkId) => launcher.launch({ linkId, mode: 'link' })))
    expect(outcomes.every((o) => typeof o.taskArn === 'string')).toBe(true)
    for (const id of ids) expect(ecs.tasksFor(id)).toHaveLength(1)
    expect(ecs.tasks).toHaveLength(50)
    const runTasks = ecs.calls.filter((c) => c.operation === 'RunTask')
    expect(runTasks.length).toBeGreaterThanOrEqual(75) // 50 successes plus the throttled third
    // A throttled call was retried under its own token (so a lost answer can never start a second task).
    const tokensPerLink = new Map<string, Set<string>>()
    for (const c of runTasks) {
      const link = envOf(c.input as never).LINK_ID
      tokensPerLink.set(link, (tokensPerLink.get(link) ?? new Set()).add(String(c.input.clientToken)))
    }
    expect([...tokensPerLink.values()].every((t) => t.size === 1)).toBe(true)
  })
})
