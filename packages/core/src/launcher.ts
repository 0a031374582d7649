import type { Logger } from 'pino'

/** What a worker process does: one link then exit, one logout then exit, or a long-lived host of many. */
export const WORKER_MODES = ['link', 'logout', 'host'] as const
export type WorkerMode = (typeof WORKER_MODES)[number]

export interface LaunchRequest {
  /** The link to run; for a host, the first link it takes (none for a warm host started ahead of need). */
  linkId?: string
  mode: WorkerMode
}

/** What a launcher can tell about the worker it started. */
export interface LaunchOutcome {
  /** The ECS task running the worker (ECS launcher); stored on the link to settle it when the task stops. */
  taskArn?: string
}

/** Starts a worker for a link. Implementations: local child process, ECS RunTask, and the LinkDispatcher in front of them. */
export interface LinkLauncher {
  launch(request: LaunchRequest): Promise<LaunchOutcome | void>
  /** Best effort: tells the worker holding a link (`link.workerId`) to re-read it now, e.g. after a cancel. */
  poke?(workerId: string, linkId: string): Promise<void>
}

/** A worker could not be started; the LinkService marks the link `failed/launch_failed` with this message. */
export class LaunchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'LaunchError'
  }
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
