import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.ts'

/** Every line the logger wrote. */
class LogCapture {
  readonly lines: string[] = []
  write(line: string) {
    this.lines.push(line)
  }
  get text() {
    return this.lines.join('\n')
  }
}

describe('logger redaction', () => {
  it('censors secrets even when code passes them by mistake', () => {
    const capture = new LogCapture()
    const logger = createLogger({ level: 'info' }, capture)
    logger.info({
      qr: { value: 'https://wa.me/settings/linked_devices#ref-secret', sequence: 2 },
      link: { pairingCode: { code: 'ABCD-EFGH' }, qr: { value: 'nested-qr-secret' } },
      clientToken: 'lct_token-secret',
      apiKey: 'wlb_key-secret',
      headers: { authorization: 'Bearer header-secret' },
      creds: { noiseKey: 'creds-secret' },
      dataKey: 'data-key-secret',
      linkId: 'lnk_visible',
    }, 'oops')
    const text = capture.text
    expect(text).toContain('lnk_visible')
    expect(text).toContain('[redacted]')
    for (const secret of ['ref-secret', 'nested-qr-secret', 'ABCD-EFGH', 'token-secret', 'key-secret', 'header-secret', 'creds-secret', 'data-key-secret']) {
      expect(text).not.toContain(secret)
    }
  })

  it('censors what an error logged as { err } carries of the item it refused', () => {
    const capture = new LogCapture()
    const logger = createLogger({ level: 'info' }, capture)
    const refused = Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException', Item: { qr: { M: { value: { S: 'item-qr-secret' } } } } })
    const stale = Object.assign(new Error('The link is awaiting_scan'), { current: { id: 'lnk_visible', qr: { value: 'current-qr-secret' } } })
    logger.error({ err: refused }, 'write failed')
    logger.error({ err: stale }, 'write lost')
    expect(capture.text).toContain('ConditionalCheckFailedException')
    expect(capture.text).not.toContain('item-qr-secret')
    expect(capture.text).not.toContain('current-qr-secret')
  })
})
