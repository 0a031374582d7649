import { NotFoundError } from '@wa-link-broker/core/errors'
import { planJob } from '@wa-link-broker/core/hosts'
import { linkEnding, type Link, type LinkStatus } from '@wa-link-broker/core/link'
import { StaleLinkError, type LogoutRequests } from '@wa-link-broker/core/store'
import { endAbandoned } from '@wa-link-broker/core/sweeper'
import { LinkSession, type SessionContext, type SessionOutcome, type StopRequest } from './link-session.ts'
import { LogoutSession } from './logout-session.ts'

export type JobContext = SessionContext & { requests: LogoutRequests }

/**
 * One link id given to this process (by a dispatcher, its LINK_ID or its own sweep): reads the
 * link, decides what it needs (`planJob`) and runs that — a link session, a logout, ending a link
 * nobody may take over, or nothing. What the link says decides, so a duplicate or late dispatch
 * is harmless.
 */
export class Job {
  private session?: LinkSession | LogoutSession
  private stopRequest?: StopRequest
  readonly done: Promise<SessionOutcome>

  constructor(
    private readonly ctx: JobContext,
    /** The link as the caller just read it (a sweep), to save a read. */
    known?: Link,
  ) {
    this.done = this.run(known)
  }

  get status(): LinkStatus | undefined {
    return this.session?.status
  }

  poke(): void {
    this.session?.poke()
  }

  async stop(request: StopRequest): Promise<void> {
    this.stopRequest ??= request
    await this.session?.stop(request)
  }

  private async run(known?: Link): Promise<SessionOutcome> {
    const { store, linkId, logger, workerId } = this.ctx
    // A dispatched link is almost always a new one: claim it straight away, and read it only if that fails.
    let link: Link | null | undefined = known
    if (!link) {
      try {
        return await this.runLink(await store.claim(linkId, ['pending'], 'starting', { workerId }), false)
      } catch (error) {
        if (error instanceof NotFoundError) link = null
        else if (error instanceof StaleLinkError) link = error.current
        else throw error
      }
    }
    const job = planJob(link, Date.now())
    switch (job.kind) {
      case 'skip':
        logger.debug({ why: job.why }, 'nothing to do for this link')
        return { status: link?.status ?? 'none', note: job.why }
      case 'give_up': {
        const ended = await endAbandoned(store, link!, linkEnding('worker_lost', `It cannot be resumed: ${job.why}.`))
        if (ended) logger.warn({ why: job.why }, 'ended a link whose worker is gone')
        return { status: ended ? 'failed' : link!.status, note: 'gave_up' }
      }
      case 'logout': {
        const session = (this.session = new LogoutSession(this.ctx))
        if (this.stopRequest) await session.stop(this.stopRequest)
        return session.run(job.version)
      }
      case 'link': {
        let claimed: Link
        try {
          claimed = await store.claim(linkId, job.from, job.to, { workerId, version: job.version, heartbeatAt: job.heartbeatAt })
        } catch (error) {
          if (!(error instanceof StaleLinkError || error instanceof NotFoundError)) throw error
          logger.info('someone else had the link first: nothing to do')
          return { status: error instanceof StaleLinkError ? error.current.status : 'none', note: 'not_ours' }
        }
        return this.runLink(claimed, job.takeover)
      }
    }
  }

  private runLink(claimed: Link, takeover: boolean): Promise<SessionOutcome> {
    const session = (this.session = new LinkSession(this.ctx))
    if (this.stopRequest) void session.stop(this.stopRequest)
    return session.run(claimed, takeover)
  }
}
