import type { Link } from '@wa-link-broker/core/link'
import { StaleLinkError, type LinkStore } from '@wa-link-broker/core/store'
import type { WritePlan } from './link-updates.ts'

/**
 * The only way a session writes its link: one write at a time, in order, each conditional on the
 * lease's fencing token. A write that finds the link changed by someone else (a cancel, a sweeper,
 * a host that took the link over) writes nothing and reports the link as it now is.
 */
export class FencedWriter {
  private queue: Promise<unknown> = Promise.resolve()
  /** This holder's token, fixed at the claim: never the token of whoever holds the link later. */
  readonly fence: number

  constructor(
    private readonly store: Pick<LinkStore, 'update' | 'heartbeat'>,
    /** The link as this holder last wrote or read it. */
    public link: Link,
    private readonly onConflict: (current: Link) => void,
  ) {
    this.fence = link.leaseToken
  }

  /** False once someone else took the lease. */
  get holdsLease(): boolean {
    return this.link.leaseToken === this.fence
  }

  /**
   * `plan` sees the link as it stands when the write's turn comes. Resolves the link written (the
   * current link when the plan had nothing to write), or null when the write lost to someone else;
   * rejects only on a store failure.
   */
  write(plan: (link: Link) => WritePlan | null): Promise<Link | null> {
    return this.enqueue((link) => {
      const update = plan(link)
      return update ? this.store.update(link.id, { ...update, fence: this.fence }) : null
    })
  }

  /**
   * The lease renewal of a link in progress: not a visible change (no version, no updatedAt), and
   * it returns the link, so a cancel or a lost lease is learnt here at the latest.
   */
  heartbeat(): Promise<Link | null> {
    return this.enqueue((link) => this.store.heartbeat(link.id, { fence: this.fence }))
  }

  private enqueue(send: (link: Link) => Promise<Link> | null): Promise<Link | null> {
    const next = this.queue.then(async () => {
      const sent = send(this.link)
      if (!sent) return this.link
      try {
        this.link = await sent
        return this.link
      } catch (error) {
        if (!(error instanceof StaleLinkError)) throw error
        this.link = error.current
        this.onConflict(error.current)
        return null
      }
    })
    this.queue = next.catch(() => undefined)
    return next
  }

  /** Resolves once every write queued so far has settled. */
  idle(): Promise<void> {
    return this.queue.then(() => undefined)
  }
}
