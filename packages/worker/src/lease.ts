import type { Link, LinkStatus, Logger } from '@wa-link-broker/core'
import type { FencedWriter } from './fenced-writer.ts'
import { heartbeat } from './link-updates.ts'
import { every } from './periodic.ts'

/**
 * Keeps a session's lease: a fenced heartbeat every `ms` while the link is in one of `from`. The
 * write returns the link, so `onLink` sees a cancel, a lost lease or a method switch here even
 * when the poke that should have announced it was lost. Returns the function that stops it.
 */
export function keepLease(writer: FencedWriter, options: { ms: number; from: readonly LinkStatus[]; onLink(link: Link): void; logger: Logger }): () => void {
  return every(
    options.ms,
    async () => {
      const link = await writer.write(() => heartbeat(options.from, new Date()))
      if (link) options.onLink(link)
    },
    (err) => options.logger.warn({ err }, 'heartbeat failed; retrying at the next one'),
  )
}
