import type { Logger } from 'pino'

/** Why a worker is started for a link. */
export type WorkerMode = 'link' | 'logout' | 'host'

export interface LaunchRequest {
  linkId: string
  mode: WorkerMode
}

/** What a launcher can tell about the worker it started. */
export interface LaunchOutcome {
  /** The ECS task running the worker (ECS launcher); stored on the link to settle it when the task stops. */
  taskArn?: string
}

/** Starts a worker for a link. Implementations: local child process, ECS RunTask. */
export interface LinkLauncher {
  launch(request: LaunchRequest): Promise<LaunchOutcome | void>
}

/** Until a real launcher is configured: records the request and leaves the link as it is. */
export class LoggingLauncher implements LinkLauncher {
  readonly launched: LaunchRequest[] = []
  constructor(private readonly logger: Logger) {}
  async launch(request: LaunchRequest): Promise<void> {
    this.launched.push(request)
    this.logger.info({ linkId: request.linkId, mode: request.mode }, 'worker launch requested (no launcher configured)')
  }
}
