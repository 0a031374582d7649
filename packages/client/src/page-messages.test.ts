import { describe, expect, it } from 'vitest'
import { linkPageMessage, onLinkPageMessage, type LinkPageMessage } from './page-messages.ts'

describe('onLinkPageMessage', () => {
  it('passes on the page’s messages from the service origin only, and stops when asked', () => {
    const target = new EventTarget()
    const got: LinkPageMessage[] = []
    const stop = onLinkPageMessage((m) => got.push(m), { origin: 'https://links.example.com/anything', target })
    const message = linkPageMessage({ id: 'lnk_1', status: 'failed', error: { code: 'logged_out', message: 'x' } })
    target.dispatchEvent(new MessageEvent('message', { origin: 'https://links.example.com', data: message }))
    target.dispatchEvent(new MessageEvent('message', { origin: 'https://evil.example', data: message }))
    target.dispatchEvent(new MessageEvent('message', { origin: 'https://links.example.com', data: { type: 'other' } }))
    target.dispatchEvent(new MessageEvent('message', { origin: 'https://links.example.com', data: 'wa-link-broker:link' }))
    stop()
    target.dispatchEvent(new MessageEvent('message', { origin: 'https://links.example.com', data: message }))
    expect(got).toEqual([{ type: 'wa-link-broker:link', linkId: 'lnk_1', status: 'failed', error: 'logged_out' }])
  })
})
