import { beforeAll, describe, expect, it } from 'vitest'
import { RateLimitedError } from '@wa-link-broker/core/errors'
import { LoggingLauncher } from '@wa-link-broker/core/launcher'
import { PHONE_CODE_WINDOWS } from '@wa-link-broker/core/link'
import { LinkService } from '@wa-link-broker/core/link/service'
import { createLogger } from '@wa-link-broker/core/logger'
import { LinkStore, RateLimiter } from '@wa-link-broker/core/store'
import { createTestTable } from '../support/store.ts'

/** The service against DynamoDB Local with a clock the test moves, so an hour passes in no time. */
let service: LinkService
let clock: Date
beforeAll(async () => {
  const { doc, tableName } = await createTestTable('limits')
  const logger = createLogger({ level: 'silent' })
  clock = new Date('2031-01-01T00:00:00Z') // the start of an hour window
  service = new LinkService({
    store: new LinkStore(doc, tableName),
    launcher: new LoggingLauncher(logger),
    logger,
    rateLimiter: new RateLimiter(doc, tableName),
    limits: { createPerMinute: 1000, activeLinks: 1000 },
    now: () => clock,
  })
})

const codeLink = (tenant: string, phoneNumber: string) =>
  service.create(tenant, { method: 'code', phoneNumber, webhookUrl: null, metadata: {}, ttlSeconds: 60 })

describe('pairing codes per phone number', () => {
  it('allows 3 a minute and 10 an hour, across tenants; Retry-After points at the window that refused', async () => {
    expect(PHONE_CODE_WINDOWS).toEqual([{ windowSeconds: 60, limit: 3 }, { windowSeconds: 3600, limit: 10 }])
    const number = '4915123450000'
    let accepted = 0
    for (let minute = 0; minute < 5; minute++) {
      clock = new Date(Date.parse('2031-01-01T00:00:00Z') + minute * 60_000 + 5_000)
      for (let attempt = 0; attempt < 4; attempt++) {
        const outcome = await codeLink(attempt % 2 ? 'tenant-a' : 'tenant-b', number).then(
          () => 'ok' as const,
          (error: unknown) => error,
        )
        if (outcome === 'ok') {
          accepted++
          continue
        }
        expect(outcome).toBeInstanceOf(RateLimitedError)
        const { retryAfterSeconds, message } = outcome as RateLimitedError
        if (accepted < 10) {
          // The minute window refused: 55 s until the next minute.
          expect(attempt).toBe(3)
          expect(retryAfterSeconds).toBe(55)
          expect(message).toMatch(/at most 3 a minute/)
        } else {
          // The hour window refused: until the next hour, not the next minute.
          expect(retryAfterSeconds).toBe(3600 - minute * 60 - 5)
          expect(message).toMatch(/at most 10 an hour/)
        }
      }
    }
    expect(accepted).toBe(10)
    // The next hour starts afresh.
    clock = new Date('2031-01-01T01:00:01Z')
    await expect(codeLink('tenant-a', number)).resolves.toMatchObject({ replayed: false })
  })
})
