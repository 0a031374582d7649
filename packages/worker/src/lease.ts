import type { Link } from '@wa-link-broker/core/link'
import type { Logger } from '@wa-link-broker/core/logger'
import { every } from './periodic.ts'

/**
 * Keeps a session's lease: `beat` (a fenced heartbeat) every `ms`. The heartbeat returns the link,
 * so `onLink` sees a cancel, a lost lease or a method switch here even when the poke that should
 * have announced it was lost. Returns the function that stops it.
 */
export function keepLease(beat: () => Promise<Link | null>, options: { ms: number; onLink(link: Link): void; logger: Logger }): () => void {
  return every(
    options.ms,
    async () => {
      const link = await beat()
      if (link) options.onLink(link)
    },
    (err) => options.logger.warn({ err }, 'heartbeat failed; retrying at the next one'),
  )
}
