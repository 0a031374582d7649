import type { Logger } from 'pino'
import { isQueueKick, type WebhookEventStore } from './event-store.ts'
import { linkEventsFromChange, type StreamChange } from './events.ts'

/**
 * What both stream drivers do with a batch of records: record every event they make (idempotent,
 * so a replayed batch records nothing twice) and name the links that have deliveries to make now.
 * Throws only when the table does, so the driver retries the batch rather than lose it.
 */
export async function recordStreamChanges(
  changes: readonly StreamChange[],
  deps: { store: WebhookEventStore; logger: Logger; now?: () => Date },
): Promise<string[]> {
  const serve = new Set<string>()
  for (const change of changes) {
    const kicked = isQueueKick(change)
    if (kicked) serve.add(kicked)
    let events: ReturnType<typeof linkEventsFromChange>
    try {
      events = linkEventsFromChange(change)
    } catch (error) {
      // A record no event can be made of must not hold up the rest of the stream.
      deps.logger.error({ err: error, keys: change.keys }, 'stream record skipped: not a readable link')
      continue
    }
    for (const event of events) {
      if (await deps.store.record(event, deps.now?.() ?? new Date())) {
        deps.logger.info({ eventId: event.id, linkId: event.linkId, type: event.type, version: event.version }, 'webhook event recorded')
      }
      serve.add(event.linkId)
    }
  }
  return [...serve]
}
