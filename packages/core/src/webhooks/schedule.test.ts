import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { parseEnv } from '../config/env.ts'
import { DEFAULT_RETRY_SCHEDULE, envRetrySchedule, nextAttemptAfter } from './schedule.ts'

describe('retry schedule', () => {
  it('the real schedule tries at least 8 times over at least 24 hours', () => {
    const first = new Date('2026-01-01T00:00:00Z')
    const attempts = [first]
    for (let failed = 1; ; failed++) {
      const next = nextAttemptAfter(failed, attempts.at(-1)!)
      if (!next) break
      attempts.push(next)
    }
    expect(attempts.length).toBeGreaterThanOrEqual(8)
    const span = attempts.at(-1)!.getTime() - first.getTime()
    expect(span).toBeGreaterThanOrEqual(24 * 3600_000)
    // Increasing gaps: a receiver that is down is not hammered.
    const gaps = attempts.slice(1).map((t, i) => t.getTime() - attempts[i].getTime())
    expect(gaps).toEqual([...gaps].sort((a, b) => a - b))
    expect(gaps[0]).toBeGreaterThan(0)
  })

  it('the first attempt is at once, and nothing follows the last', () => {
    const now = new Date()
    expect(nextAttemptAfter(0, now)?.getTime()).toBe(now.getTime())
    expect(nextAttemptAfter(DEFAULT_RETRY_SCHEDULE.length, now)).toBeNull()
  })

  it('an injected schedule is followed as given', () => {
    const now = new Date(0)
    expect(nextAttemptAfter(1, now, [0, 100, 200])?.getTime()).toBe(100)
    expect(nextAttemptAfter(2, now, [0, 100, 200])?.getTime()).toBe(200)
    expect(nextAttemptAfter(3, now, [0, 100, 200])).toBeNull()
  })
})

describe('retry schedule from configuration', () => {
  const parse = (value: string | undefined) => parseEnv(z.object({ WEBHOOK_RETRY_SCHEDULE_MS: envRetrySchedule() }), { WEBHOOK_RETRY_SCHEDULE_MS: value }).WEBHOOK_RETRY_SCHEDULE_MS
  it('reads comma-separated milliseconds, naming the variable when it cannot', () => {
    expect(parse('0, 500,1000')).toEqual([0, 500, 1000])
    expect(parse(undefined)).toBeUndefined()
    expect(parse('')).toBeUndefined()
    expect(() => parse('0,5s')).toThrow('Invalid configuration: WEBHOOK_RETRY_SCHEDULE_MS: must be comma-separated milliseconds')
    expect(() => parse('100,200')).toThrow('Invalid configuration: WEBHOOK_RETRY_SCHEDULE_MS: the first attempt is at once, so the first wait must be 0')
  })
})
