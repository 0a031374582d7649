import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { z } from 'zod'
import { LINK_ID_PATTERN } from '@wa-link-broker/core/link'
import type { Logger } from '@wa-link-broker/core/logger'

/**
 * The hand-off between the table's stream subscriber and the delivery function (AWS only).
 *
 * A DynamoDB stream event source runs a shard's batches one at a time, so the subscriber must not
 * wait for receivers: it records the events, then asks the delivery function, with an asynchronous
 * Invoke, to serve the links that have deliveries to make, and returns. The delivery function runs
 * the same WebhookDispatcher as the retry Cron (ordering and leases are the dispatcher's). A hand-off
 * that fails loses nothing: the events are recorded and their queues are due, so the retry Cron
 * serves them within a minute.
 */

/** What the delivery function is invoked with. */
export interface DeliverRequest {
  linkIds: string[]
}

/**
 * Lambda refuses an asynchronous (`Event`) invocation whose payload is larger than this. A link id is
 * 30 characters (LINK_ID_PATTERN), so a full request is ~3 KB: counting links is all the splitting needed.
 */
export const ASYNC_PAYLOAD_LIMIT_BYTES = 256 * 1024
/**
 * Links per invocation. A stream batch rarely names more (Lambda's default batch is 100 records),
 * and a larger batch is spread over several delivery functions running side by side rather than
 * queued behind one invocation's 40 s budget.
 */
export const LINKS_PER_DELIVERY = 100
const deliverRequestSchema = z.object({ linkIds: z.array(z.string().regex(LINK_ID_PATTERN)).max(LINKS_PER_DELIVERY) })

/** Splits link ids into payloads of at most LINKS_PER_DELIVERY ids each, in order. */
export function deliverRequests(linkIds: readonly string[]): DeliverRequest[] {
  const out: DeliverRequest[] = []
  for (let i = 0; i < linkIds.length; i += LINKS_PER_DELIVERY) out.push({ linkIds: linkIds.slice(i, i + LINKS_PER_DELIVERY) })
  return out
}

export interface DeliveryHandoffOptions {
  /** The delivery function's name or ARN (WEBHOOK_DELIVER_FUNCTION). */
  functionName: string
  region: string
  logger: Logger
  /** A client of the caller's (tests); by default one with short timeouts, so a slow Lambda API cannot hold the shard. */
  client?: LambdaClient
}

export type DeliveryHandoff = (linkIds: readonly string[]) => Promise<{ invocations: number; failed: number }>

/**
 * Hands links to the delivery function, one asynchronous Invoke per payload, all at once. Never
 * throws: a failed Invoke is logged (counts only) and left to the retry Cron.
 */
export function createDeliveryHandoff(options: DeliveryHandoffOptions): DeliveryHandoff {
  const { functionName, logger } = options
  // The SDK retries throttling and 5xx (3 attempts); each attempt is bounded so the batch is not.
  const client = options.client ?? new LambdaClient({ region: options.region, requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 } })
  return async (linkIds) => {
    const requests = deliverRequests(linkIds)
    const results = await Promise.allSettled(
      requests.map((request) =>
        client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(request)) })),
      ),
    )
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ links: requests[i].linkIds.length, error: (r.reason as Error)?.name }] : []))
    if (failed.length) {
      logger.warn(
        {
          invocations: requests.length,
          failedInvocations: failed.length,
          links: linkIds.length,
          failedLinks: failed.reduce((n, f) => n + f.links, 0),
          errors: [...new Set(failed.map((f) => f.error))],
        },
        'webhook delivery hand-off failed; the retry schedule serves those links',
      )
    }
    return { invocations: requests.length, failed: failed.length }
  }
}

/** The link ids of a delivery request, or null when the event is not one. */
export function parseDeliverRequest(event: unknown): string[] | null {
  const parsed = deliverRequestSchema.safeParse(event)
  return parsed.success ? [...new Set(parsed.data.linkIds)] : null
}
