import { NotFoundError } from '../errors.ts'
import type { Link } from '../link/link.ts'
import type { EventOutcome, StoredEvent, WebhookEventStore } from './event-store.ts'
import { EVENT_ID_PATTERN } from './events.ts'
import type { WebhookSecretStore } from './secret-store.ts'

/**
 * What a tenant sees of one event: its delivery (an attempt's outcome fields), not its body (which
 * carries QR values and codes); `timestamp` is when the change happened (the body's `timestamp`).
 */
export type WebhookEventView = Pick<StoredEvent, 'id' | 'type'> & { timestamp: string } & EventOutcome

export function toEventView(event: StoredEvent): WebhookEventView {
  return {
    id: event.id,
    type: event.type,
    timestamp: event.occurredAt,
    state: event.state,
    attempts: event.attempts,
    lastHttpStatus: event.lastHttpStatus,
    lastError: event.lastError,
    lastAttemptAt: event.lastAttemptAt,
    nextAttemptAt: event.state === 'pending' ? event.nextAttemptAt : null,
    deliveredAt: event.deliveredAt,
  }
}

/** The webhook use cases of the API, free of HTTP. The caller has already checked the link is the tenant's. */
export class WebhookService {
  constructor(
    private readonly deps: { secrets: WebhookSecretStore; events: WebhookEventStore; now?: () => Date },
  ) {}

  secret(tenantId: string): Promise<string> {
    return this.deps.secrets.current(tenantId)
  }

  rotateSecret(tenantId: string): Promise<string> {
    return this.deps.secrets.rotate(tenantId)
  }

  async events(link: Link): Promise<WebhookEventView[]> {
    return (await this.deps.events.list(link.id)).map(toEventView)
  }

  /** Sends the event again now (asynchronously: the link's dispatcher picks it up at once). */
  async redeliver(link: Link, eventId: string): Promise<WebhookEventView> {
    const event = EVENT_ID_PATTERN.test(eventId) ? await this.deps.events.find(link.id, eventId) : null
    if (!event) throw new NotFoundError('No such event.')
    const now = this.deps.now?.() ?? new Date()
    await this.deps.events.redeliver(event, now)
    return toEventView({ ...event, state: 'pending', nextAttemptAt: now.toISOString() })
  }
}
