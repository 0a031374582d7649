import { describe, expect, it } from 'vitest'
import { Webhook } from 'standardwebhooks'
import { verifyWebhook, WebhookVerificationError } from './webhooks.ts'

// A payload signed by the standardwebhooks package itself: what every Standard Webhooks sender emits.
const secret = `whsec_${Buffer.from('a'.repeat(32)).toString('base64')}`
const body = JSON.stringify({ type: 'link.linked', timestamp: '2026-11-21T10:00:00.000Z', data: { link: { id: 'lnk_1', status: 'linked' } } })

function signed(payload = body, key = secret, at = new Date()) {
  const id = 'msg_1'
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(key).sign(id, at, payload) }
}

describe('verifyWebhook', () => {
  it('returns the parsed event for a delivery signed with the secret, from a plain object or Headers', () => {
    expect(verifyWebhook(body, signed(), secret)).toMatchObject({ type: 'link.linked', data: { link: { id: 'lnk_1', status: 'linked' } } })
    expect(verifyWebhook(body, new Headers(signed()), secret).type).toBe('link.linked')
  })

  it('accepts a delivery that carries both signatures during a rotation', () => {
    const other = `whsec_${Buffer.from('b'.repeat(32)).toString('base64')}`
    const headers = signed(body, other)
    headers['webhook-signature'] = `${headers['webhook-signature']} ${signed(body, secret)['webhook-signature']}`
    expect(verifyWebhook(body, headers, secret).type).toBe('link.linked')
  })

  it('refuses a changed body, another secret, a missing header and an old timestamp', () => {
    const other = `whsec_${Buffer.from('b'.repeat(32)).toString('base64')}`
    expect(() => verifyWebhook(body.replace('linked', 'failed'), signed(), secret)).toThrow(WebhookVerificationError)
    expect(() => verifyWebhook(body, signed(body, other), secret)).toThrow(WebhookVerificationError)
    const { 'webhook-signature': _drop, ...unsigned } = signed()
    expect(() => verifyWebhook(body, unsigned, secret)).toThrow(WebhookVerificationError)
    expect(() => verifyWebhook(body, signed(body, secret, new Date(Date.now() - 10 * 60_000)), secret)).toThrow(WebhookVerificationError)
  })
})
