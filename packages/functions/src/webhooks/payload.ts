import type { LinkEvent, WebhookEventType } from '@wa-link-broker/core/webhooks'
import { toLinkView, type LinkView } from '../link-view.ts'

/** The body every delivery carries (the contract's "Webhooks"). */
export interface WebhookBody {
  type: WebhookEventType
  /** When the change happened; `data.link.updatedAt` says the same, so a receiver can drop a stale event. */
  timestamp: string
  data: { link: LinkView }
}

/** The link as GET /v1/links/{id} showed it right after the change. The same text on every attempt. */
export function webhookBody(event: Pick<LinkEvent, 'type' | 'occurredAt' | 'link'>): string {
  const body: WebhookBody = { type: event.type, timestamp: event.occurredAt, data: { link: toLinkView(event.link, new Date(event.occurredAt)) } }
  return JSON.stringify(body)
}
