import { createHash } from 'node:crypto'
import { RunTaskCommand, type ECSClient, type Failure, type RunTaskCommandOutput } from '@aws-sdk/client-ecs'
import type { Logger } from 'pino'
import type { LaunchRequest, LinkLauncher } from '../launcher.ts'
import type { EcsTaskConfig } from '../runtime-config.ts'
import { LaunchError } from './errors.ts'

/** The task to run (`containerName` is the worker container, whose environment gets LINK_ID / WORKER_MODE). */
export interface EcsLauncherOptions extends EcsTaskConfig {
  ecs: ECSClient
  /**
   * Total RunTask HTTP attempts per launch, counting the SDK client's own retries (read from each
   * reply's `$metadata.attempts`), so a throttled launch never runs maxAttempts × the client's.
   */
  maxAttempts?: number
  /** First back-off between our own attempts; doubles each time, with jitter. */
  retryDelayMs?: number
  logger?: Logger
}

/** ECS `startedBy`: lets operators list (and stop) every worker task this service started. */
export const ECS_STARTED_BY = 'wa-link-broker'

/**
 * Starts a link's worker as a Fargate task. Capacity shortfalls (`failures[]` in a 200 reply)
 * and throttling are retried with back-off; anything else fails the launch at once.
 */
export class EcsLauncher implements LinkLauncher {
  private readonly maxAttempts: number
  private readonly retryDelayMs: number

  constructor(private readonly options: EcsLauncherOptions) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3)
    this.retryDelayMs = options.retryDelayMs ?? 1000
  }

  async launch({ linkId, mode }: LaunchRequest): Promise<void> {
    // The warm floor is the ECS service; a task this launcher starts always serves a waiting link.
    if (!linkId) throw new LaunchError('An ECS worker task is started for a link: LINK_ID is required.')
    const { logger } = this.options
    const problems: string[] = []
    let attempts = 0
    // Rounds advance only after ECS answered "no task started" (failures[]); a throttled or lost
    // request is retried under the same token, so if ECS did start a task we never start a second.
    let round = 0
    while (attempts < this.maxAttempts) {
      if (attempts > 0) await this.backoff(attempts)
      let reply: RunTaskCommandOutput
      try {
        reply = await this.options.ecs.send(this.runTask(linkId, mode, round))
      } catch (error) {
        attempts += attemptsOf(error)
        const problem = describeError(error)
        if (!isRetryable(error)) throw new LaunchError(`ECS RunTask failed: ${problem}`, { cause: error })
        problems.push(problem)
        logger?.warn({ worker: linkId, mode, attempts, problem }, 'ECS RunTask throttled; retrying')
        continue
      }
      attempts += attemptsOf(reply)
      const started = reply.tasks?.[0]
      if (started && !reply.failures?.length) {
        logger?.info({ worker: linkId, mode, taskArn: started.taskArn, attempts }, 'worker task started')
        return
      }
      round++
      const problem = reply.failures?.length ? reply.failures.map(describeFailure).join('; ') : 'no task was started'
      problems.push(problem)
      logger?.warn({ worker: linkId, mode, attempts, problem }, 'ECS RunTask could not place the task; retrying')
    }
    throw new LaunchError(
      `ECS RunTask did not start a worker after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${[...new Set(problems)].join('; ')}`,
    )
  }

  private runTask(linkId: string, mode: string, round: number): RunTaskCommand {
    const o = this.options
    return new RunTaskCommand({
      cluster: o.cluster,
      taskDefinition: o.taskDefinition,
      launchType: 'FARGATE',
      count: 1,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: o.subnets,
          securityGroups: o.securityGroups,
          assignPublicIp: o.assignPublicIp ? 'ENABLED' : 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [
          {
            name: o.containerName,
            environment: [
              { name: 'LINK_ID', value: linkId },
              { name: 'WORKER_MODE', value: mode },
            ],
          },
        ],
      },
      startedBy: ECS_STARTED_BY,
      clientToken: ecsClientToken(linkId, mode, round),
    })
  }

  private backoff(attempts: number): Promise<void> {
    const ceiling = Math.min(this.retryDelayMs * 2 ** (attempts - 1), 20_000)
    return new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)))
  }
}

/** Deterministic per link, mode and round, so a repeated launch of the same link is deduplicated by ECS. ≤ 64 chars. */
export function ecsClientToken(linkId: string, mode: string, round: number): string {
  return createHash('sha256').update(`${ECS_STARTED_BY}\n${linkId}\n${mode}\n${round}`).digest('base64url')
}

function describeFailure(failure: Failure): string {
  return [failure.reason ?? 'unknown reason', failure.detail].filter(Boolean).join(': ')
}

type SdkError = Error & { $retryable?: unknown; $metadata?: { httpStatusCode?: number; attempts?: number } }

function attemptsOf(outcome: unknown): number {
  return Math.max(1, (outcome as SdkError)?.$metadata?.attempts ?? 1)
}

function isRetryable(error: unknown): boolean {
  const e = error as SdkError
  const status = e?.$metadata?.httpStatusCode ?? 0
  return Boolean(e?.$retryable) || /Throttl|TooManyRequests/i.test(e?.name ?? '') || status === 429 || status >= 500
}

function describeError(error: unknown): string {
  const e = error as SdkError
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`
}
