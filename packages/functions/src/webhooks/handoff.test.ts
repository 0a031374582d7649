import { describe, expect, it } from 'vitest'
import { newLinkId } from '@wa-link-broker/core/link'
import { createLogger } from '@wa-link-broker/core/logger'
import { ASYNC_PAYLOAD_LIMIT_BYTES, deliverRequests, LINKS_PER_DELIVERY, parseDeliverRequest } from './handoff.ts'
import { loadWebhookStreamConfig } from '../config.ts'

const silent = createLogger({ name: 'test', level: 'silent' })
const ids = (n: number) => Array.from({ length: n }, () => newLinkId())

describe('the stream → delivery hand-off payloads', () => {
  it('one payload for a usual batch, several for a large one, each within the link and byte limits, in order', () => {
    const few = ids(3)
    expect(deliverRequests(few)).toEqual([{ linkIds: few }])
    expect(deliverRequests([])).toEqual([])
    const many = ids(LINKS_PER_DELIVERY * 2 + 5)
    const chunks = deliverRequests(many)
    expect(chunks.map((c) => c.linkIds.length)).toEqual([LINKS_PER_DELIVERY, LINKS_PER_DELIVERY, 5])
    expect(chunks.flatMap((c) => c.linkIds)).toEqual(many)
    for (const c of chunks) expect(Buffer.byteLength(JSON.stringify(c))).toBeLessThanOrEqual(ASYNC_PAYLOAD_LIMIT_BYTES)
  })

  it('a full payload of the longest link ids stays far inside the async limit (JSON as sent)', () => {
    const longest = Array.from({ length: LINKS_PER_DELIVERY }, (_, i) => `lnk_${'z'.repeat(26 - String(i).length)}${i}`)
    expect(longest.every((id) => parseDeliverRequest({ linkIds: [id] }) !== null)).toBe(true)
    expect(Buffer.byteLength(JSON.stringify(deliverRequests(longest)[0]))).toBeLessThanOrEqual(ASYNC_PAYLOAD_LIMIT_BYTES / 10)
  })

  it('the delivery function reads only a well-formed request', () => {
    const list = ids(2)
    expect(parseDeliverRequest({ linkIds: [...list, list[0]] })).toEqual(list)
    for (const bad of [undefined, {}, { linkIds: 'lnk_x' }, { linkIds: ['LINK#x'] }, { linkIds: ids(LINKS_PER_DELIVERY + 1) }]) expect(parseDeliverRequest(bad)).toBeNull()
  })
})

describe('the stream subscriber’s configuration', () => {
  it('needs the delivery function, by name or ARN', () => {
    const arn = 'arn:aws:lambda:us-east-1:111122223333:function:wa-link-broker-prod-WebhookDeliverFunction-abc'
    expect(loadWebhookStreamConfig({ WEBHOOK_DELIVER_FUNCTION: arn }).deliverFunction).toBe(arn)
    expect(loadWebhookStreamConfig({ WEBHOOK_DELIVER_FUNCTION: 'deliver' }).deliverFunction).toBe('deliver')
    expect(() => loadWebhookStreamConfig({})).toThrow("Invalid configuration: WEBHOOK_DELIVER_FUNCTION: must be the webhook delivery function's name or ARN")
    expect(() => loadWebhookStreamConfig({ WEBHOOK_DELIVER_FUNCTION: 'https://lambda.example/fn' })).toThrow(/WEBHOOK_DELIVER_FUNCTION/)
  })
})
