import { describe, expect, it } from 'vitest'
import { createLogger } from '@wa-link-broker/core'
import { LogCapture } from '../support/api.ts'

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
})
