import type { Logger } from 'pino'
import type { LaunchOutcome, LaunchRequest, LinkLauncher } from '../launcher.ts'
import type { HostRegistry } from './host-registry.ts'

export interface LinkDispatcherOptions {
  registry: HostRegistry
  /** Starts a worker when no warm host takes the link; absent where nothing may be started (a draining host). */
  launcher?: LinkLauncher
  /** False (`WARM_WORKERS=0`): no hosts, every link gets its own one-shot worker as before. */
  warm: boolean
  logger?: Logger
}

export interface DispatchOptions {
  /** Start a new host when no warm one takes the link (default true). */
  launch?: boolean
  /** Keep offering to warm hosts this long before launching (a host being restarted registers meanwhile). */
  patienceMs?: number
}

export type DispatchResult = { to: 'host'; hostId: string } | ({ to: 'launched' } & LaunchOutcome) | { to: 'nobody' }

const RETRY_MS = 200
/** How long a list of hosts is reused; a dispatch that finds none of them taking the link lists again. */
const LIST_TTL_MS = 2000

/**
 * Hands a link to a worker: the one dispatch path, used by the API (new links, logouts), by a
 * draining host (hand-overs) and by the settling of a stopped worker, in AWS as locally.
 *
 * Warm: list the hosts and, in random order, offer the link to each (one conditional write that
 * checks the host is alive, accepting and has room); the first that accepts has it. If none does,
 * the launcher starts one more host with the link as its first (ECS RunTask, or a child process
 * locally); it stays warm for the next links and exits when idle.
 */
export class LinkDispatcher implements LinkLauncher {
  private listed?: { ids: Promise<string[]>; at: number }

  constructor(private readonly options: LinkDispatcherOptions) {}

  get warm(): boolean {
    return this.options.warm
  }

  /** LinkLauncher: what the API calls for a new link (`link`) or a logout (`logout`). A started task's ARN is passed on. */
  async launch(request: LaunchRequest): Promise<LaunchOutcome | void> {
    if (!this.options.warm) return this.requireLauncher().launch(request)
    const result = await this.dispatch(request.linkId!)
    if (result.to === 'launched') return { taskArn: result.taskArn }
  }

  async dispatch(linkId: string, { launch = true, patienceMs = 0 }: DispatchOptions = {}): Promise<DispatchResult> {
    const giveUpAt = Date.now() + patienceMs
    for (;;) {
      const hostId = await this.offerToHosts(linkId)
      if (hostId) {
        this.options.logger?.info({ linkId, hostId }, 'link dispatched to a warm host')
        return { to: 'host', hostId }
      }
      if (Date.now() + RETRY_MS > giveUpAt) break
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS))
    }
    if (!launch || !this.options.launcher) return { to: 'nobody' }
    this.options.logger?.info({ linkId }, 'no warm host has room: starting one')
    const started = await this.options.launcher.launch({ linkId, mode: 'host' })
    return { to: 'launched', ...(started?.taskArn ? { taskArn: started.taskArn } : {}) }
  }

  /** Best effort: the link's session re-reads it within ~100 ms instead of at its next heartbeat. */
  async poke(workerId: string, linkId: string): Promise<void> {
    try {
      await this.options.registry.poke(workerId, linkId)
    } catch (error) {
      this.options.logger?.warn({ linkId, workerId, err: error }, 'poke failed; the session sees the change at its next heartbeat')
    }
  }

  /** Offers to the hosts last listed; if none takes it and the list was not fresh, lists again once. */
  private async offerToHosts(linkId: string): Promise<string | null> {
    const cached = this.listed && Date.now() - this.listed.at < LIST_TTL_MS
    const tried = new Set<string>()
    for (const fresh of cached ? [false, true] : [true]) {
      if (fresh) this.listed = { ids: this.options.registry.list(), at: Date.now() }
      const listed = this.listed!
      let hosts: string[]
      try {
        hosts = shuffle([...(await listed.ids)])
      } catch (error) {
        if (this.listed === listed) this.listed = undefined
        throw error
      }
      for (const hostId of hosts) {
        if (tried.has(hostId)) continue
        tried.add(hostId)
        if (await this.options.registry.offer(hostId, linkId)) return hostId
      }
    }
    return null
  }

  private requireLauncher(): LinkLauncher {
    if (!this.options.launcher) throw new Error('This dispatcher has no launcher.')
    return this.options.launcher
  }
}

function shuffle<T>(values: T[]): T[] {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[values[i], values[j]] = [values[j], values[i]]
  }
  return values
}
