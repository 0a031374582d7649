import { randomUUID } from 'node:crypto'
import { RunTaskCommand, type ECSClient, type Failure, type RunTaskCommandOutput } from '@aws-sdk/client-ecs'
import type { Logger } from 'pino'
import { LaunchError, type LaunchOutcome, type LaunchRequest, type LinkLauncher } from '../launcher.ts'
import type { EcsTaskConfig } from '../runtime-config.ts'
import { ECS_STARTED_BY } from './ecs-names.ts'

/** The task to run (`containerName` is the worker container, whose environment gets LINK_ID / WORKER_MODE). */
export interface EcsLauncherOptions extends EcsTaskConfig {
  ecs: ECSClient
  /**
   * How long one launch may keep retrying throttled or failed RunTask calls. It must end inside
   * the API request that waits for it (the API Lambda's timeout is 15 s).
   */
  budgetMs?: number
  /** "No task was started" answers (`failures[]`, e.g. no capacity in a zone) tried before giving up. */
  maxPlacements?: number
  /** First back-off; doubles per retry up to `maxDelayMs`; each wait is drawn at random below it (full jitter). */
  retryDelayMs?: number
  maxDelayMs?: number
  logger?: Logger
}

export { ECS_STARTED_BY }
// `@wa-link-broker/core/launchers/ecs` is this module: the ECS adapter whole, its orphan sweep included.
export { DEFAULT_LOGOUT_MAX_MS, DEFAULT_ORPHAN_GRACE_MS, stopOrphanedTasks, type OrphanSweepOptions } from './ecs-orphans.ts'

export const DEFAULT_LAUNCH_BUDGET_MS = 8_000

/**
 * Starts a link's worker as a Fargate task.
 *
 * - Each launch is a new request to ECS with a fresh `clientToken`: ECS answers a repeated token
 *   (for 24 h) with the task it first started, so a deterministic token would make a second
 *   logout of the same link a no-op.
 * - A throttled or failed call (the account allows about 20 RunTask calls a second) is retried
 *   under the same token with jittered exponential back-off until `budgetMs` runs out: if ECS did
 *   start a task for a call whose answer was lost, the retry returns that task rather than a second.
 * - A `failures[]` answer means nothing was started: the next placement is a new request (new token).
 */
export class EcsLauncher implements LinkLauncher {
  private readonly budgetMs: number
  private readonly maxPlacements: number
  private readonly retryDelayMs: number
  private readonly maxDelayMs: number

  constructor(private readonly options: EcsLauncherOptions) {
    this.budgetMs = options.budgetMs ?? DEFAULT_LAUNCH_BUDGET_MS
    this.maxPlacements = Math.max(1, options.maxPlacements ?? 3)
    this.retryDelayMs = options.retryDelayMs ?? 100
    this.maxDelayMs = options.maxDelayMs ?? 2_000
  }

  async launch({ linkId, mode }: LaunchRequest): Promise<LaunchOutcome> {
    // The warm floor is the ECS service; a task this launcher starts always serves a waiting link.
    if (!linkId) throw new LaunchError('An ECS worker task is started for a link: LINK_ID is required.')
    const { logger } = this.options
    const deadline = Date.now() + this.budgetMs
    const problems: string[] = []
    let calls = 0
    let placements = 0
    let clientToken = randomUUID()
    for (let retry = 0; ; retry++) {
      let reply: RunTaskCommandOutput
      calls++
      try {
        reply = await this.options.ecs.send(this.runTask(linkId, mode, clientToken), { abortSignal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) })
      } catch (error) {
        const problem = describeError(error)
        if (!isRetryable(error)) throw new LaunchError(`ECS RunTask failed: ${problem}`, { cause: error })
        problems.push(problem)
        logger?.warn({ worker: linkId, mode, calls, problem }, 'ECS RunTask throttled or failed; retrying under the same token')
        if (!(await this.backoff(retry, deadline))) break
        continue
      }
      const started = reply.tasks?.[0]
      if (started?.taskArn && !reply.failures?.length) {
        logger?.info({ worker: linkId, mode, taskArn: started.taskArn, calls }, 'worker task started')
        return { taskArn: started.taskArn }
      }
      const problem = reply.failures?.length ? reply.failures.map(describeFailure).join('; ') : 'no task was started'
      problems.push(problem)
      logger?.warn({ worker: linkId, mode, calls, problem }, 'ECS RunTask could not place the task')
      if (++placements >= this.maxPlacements || !(await this.backoff(retry, deadline))) break
      clientToken = randomUUID() // nothing was started: the next placement is a new request
    }
    throw new LaunchError(
      `ECS RunTask did not start a worker (${calls} call${calls === 1 ? '' : 's'} in ${((this.budgetMs - Math.max(0, deadline - Date.now())) / 1000).toFixed(1)} s): ${[...new Set(problems)].join('; ')}`,
    )
  }

  private runTask(linkId: string, mode: string, clientToken: string): RunTaskCommand {
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
      clientToken,
    })
  }

  /** Waits before the next call; false when that would pass the deadline. */
  private async backoff(retry: number, deadline: number): Promise<boolean> {
    const ceiling = Math.min(this.retryDelayMs * 2 ** retry, this.maxDelayMs)
    const wait = Math.random() * ceiling
    if (Date.now() + wait >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, wait))
    return true
  }
}

function describeFailure(failure: Failure): string {
  return [failure.reason ?? 'unknown reason', failure.detail].filter(Boolean).join(': ')
}

type SdkError = Error & { $retryable?: unknown; $metadata?: { httpStatusCode?: number } }

function isRetryable(error: unknown): boolean {
  const e = error as SdkError
  const status = e?.$metadata?.httpStatusCode ?? 0
  return Boolean(e?.$retryable) || /Throttl|TooManyRequests|TimeoutError|AbortError/i.test(e?.name ?? '') || status === 429 || status >= 500
}

function describeError(error: unknown): string {
  const e = error as SdkError
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`
}
