import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import type { Logger } from 'pino'
import { LaunchError, type LaunchRequest, type LinkLauncher } from '../launcher.ts'
import { dieWithParent } from '../process/die-with-parent.ts'

export interface LocalProcessLauncherOptions {
  /** The worker command line, e.g. `[process.execPath, '--import', 'tsx', 'packages/worker/src/main.ts']`. */
  command: string[]
  /** Added to the parent's environment (which passes through, so tests can set WA_WS_URL etc.). */
  env?: Record<string, string>
  logger: Logger
  /** Workers alive at once; launches beyond it wait in a queue. */
  maxConcurrent?: number
  cwd?: string
  /** How long stopAll() waits after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number
  /** Called once a worker process has exited, however it ended (e.g. to settle the links it held). */
  onExit?: (worker: ExitedWorker) => void
}

export interface ExitedWorker {
  /** The host id the worker registered under (WORKER_HOST_ID, chosen here). */
  hostId: string
  request: LaunchRequest
  code: number | null
  signal: NodeJS.Signals | null
}

interface RunningWorker {
  request: LaunchRequest
  hostId: string
  exited: Promise<void>
}

/** pino's numeric levels, so a worker's line keeps its level when re-logged here. */
type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'
const PINO_LEVELS: Record<number, LevelName> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }
const LEVEL_NAMES = new Set<unknown>(Object.values(PINO_LEVELS))
/** Fields the parent's logger writes itself; the child's copies would only collide. */
const PINO_OWN_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v'])

/** Runs each link's worker as a child process of this one: the local stand-in for ECS RunTask. */
export class LocalProcessLauncher implements LinkLauncher {
  private readonly workers = new Map<ChildProcess, RunningWorker>()
  private readonly queue: LaunchRequest[] = []
  private readonly maxConcurrent: number
  private readonly stopTimeoutMs: number
  private stopping = false

  constructor(private readonly options: LocalProcessLauncherOptions) {
    if (options.command.length === 0) throw new Error('LocalProcessLauncher needs a command.')
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 20)
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000
  }

  /** Resolves once the worker process exists, or once the request is queued behind maxConcurrent. */
  async launch(request: LaunchRequest): Promise<void> {
    if (this.stopping) throw new LaunchError('The local launcher is stopping; no new workers start.')
    if (this.workers.size >= this.maxConcurrent) {
      this.queue.push(request)
      this.options.logger.info({ worker: request.linkId ?? 'host', mode: request.mode, queued: this.queue.length }, 'worker queued: too many running')
      return
    }
    await this.start(request)
  }

  running(): number {
    return this.workers.size
  }

  queued(): number {
    return this.queue.length
  }

  /** The running worker processes: which host id each registered under, its pid, why it was started. */
  processes(): { hostId: string; pid: number | undefined; request: LaunchRequest }[] {
    return [...this.workers].map(([child, worker]) => ({ hostId: worker.hostId, pid: child.pid, request: worker.request }))
  }

  /** SIGTERM to every worker, SIGKILL to those still alive after the timeout; queued launches are dropped. */
  async stopAll(): Promise<void> {
    this.stopping = true
    try {
      const dropped = this.queue.splice(0)
      if (dropped.length) this.options.logger.warn({ workers: dropped.map((r) => r.linkId) }, 'queued workers dropped on stop')
      await Promise.all([...this.workers].map(([child, worker]) => this.terminate(child, worker)))
    } finally {
      this.stopping = false
    }
  }

  private start(request: LaunchRequest): Promise<void> {
    const { logger } = this.options
    const [file, ...args] = this.options.command
    // Chosen here rather than by the worker, so that whatever becomes of the process, its exit can be
    // tied to the links it held.
    const hostId = `local-${process.pid}-${randomBytes(6).toString('hex')}`
    const { LINK_ID: _inherited, ...parentEnv } = { ...process.env, ...this.options.env }
    const child = spawn(file, args, {
      cwd: this.options.cwd,
      env: { ...parentEnv, ...(request.linkId ? { LINK_ID: request.linkId } : {}), WORKER_MODE: request.mode, WORKER_HOST_ID: hostId },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const tag = request.linkId ?? hostId
    // Stopped even if this process is SIGKILLed and runs no cleanup (see dieWithParent).
    dieWithParent(child)
    // The slot is taken now, not at 'spawn', so a burst of launches cannot overshoot the cap.
    let markExited!: () => void
    const worker: RunningWorker = { request, hostId, exited: new Promise((resolve) => (markExited = resolve)) }
    this.workers.set(child, worker)
    this.relayLines(child, tag)

    return new Promise((resolve, reject) => {
      let spawned = false
      child.once('spawn', () => {
        spawned = true
        logger.info({ worker: tag, hostId, mode: request.mode, workerPid: child.pid }, 'worker started')
        resolve()
      })
      child.on('error', (error) => {
        if (spawned) {
          logger.error({ worker: tag, err: error }, 'worker process error')
          return
        }
        this.release(child)
        markExited()
        reject(new LaunchError(`Could not start the worker process: ${error.message}`, { cause: error }))
      })
      // Node reaps the child before emitting 'exit', so a finished worker never lingers as a zombie;
      // its slot frees at once.
      child.once('exit', () => this.release(child))
      // 'close' comes once its output is drained too, so 'worker exited' is the worker's last log line.
      child.once('close', (code, signal) => {
        this.release(child)
        markExited()
        const level = code === 0 || signal === 'SIGTERM' ? 'info' : 'warn'
        logger[level]({ worker: tag, hostId, mode: request.mode, code, signal }, 'worker exited')
        this.options.onExit?.({ hostId, request, code, signal })
      })
    })
  }

  private release(child: ChildProcess): void {
    if (!this.workers.delete(child)) return
    this.startQueued()
  }

  private startQueued(): void {
    while (!this.stopping && this.queue.length > 0 && this.workers.size < this.maxConcurrent) {
      const request = this.queue.shift()!
      // Its launch() already resolved, so a failure here can only be reported in the log.
      this.start(request).catch((error) =>
        this.options.logger.error({ worker: request.linkId ?? 'host', mode: request.mode, err: error }, 'queued worker failed to start'),
      )
    }
  }

  private terminate(child: ChildProcess, worker: RunningWorker): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return worker.exited
    child.kill('SIGTERM')
    const timer = setTimeout(() => {
      this.options.logger.warn({ worker: worker.request.linkId ?? worker.hostId }, 'worker ignored SIGTERM; killing it')
      child.kill('SIGKILL')
    }, this.stopTimeoutMs)
    return worker.exited.finally(() => clearTimeout(timer))
  }

  /** Each line of the worker's output becomes a log entry of ours, tagged with the link. */
  private relayLines(child: ChildProcess, linkId: string): void {
    const { logger } = this.options
    const relay = (stream: NodeJS.ReadableStream | null, plainLevel: 'info' | 'warn') => {
      if (!stream) return
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        if (line.trim() === '') return
        const entry = parsePinoLine(line)
        if (entry) logger[entry.level]({ ...entry.fields, worker: linkId }, entry.msg)
        else logger[plainLevel]({ worker: linkId }, line)
      })
    }
    relay(child.stdout, 'info')
    relay(child.stderr, 'warn')
  }
}

function parsePinoLine(line: string): { level: LevelName; msg: string; fields: Record<string, unknown> } | undefined {
  if (!line.startsWith('{')) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return undefined
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined
  const record = parsed as Record<string, unknown>
  // Numeric as pino writes by default; a name if the worker's logger uses a level formatter.
  const level = typeof record.level === 'number' ? PINO_LEVELS[record.level] : LEVEL_NAMES.has(record.level) ? (record.level as LevelName) : undefined
  if (!level) return undefined
  const fields = Object.fromEntries(Object.entries(record).filter(([key]) => !PINO_OWN_FIELDS.has(key)))
  return { level, msg: typeof record.msg === 'string' ? record.msg : '', fields }
}
