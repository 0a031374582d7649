import { z } from 'zod'
import { envString } from '../config/env.ts'

/**
 * When a webhook delivery is tried again. Each entry is the wait before that attempt, counted from
 * the attempt before it; the first is 0 (at once). This is the schedule the Standard Webhooks
 * guidance recommends: 8 attempts, the last one 27 h 35 min after the first.
 */
export type RetrySchedule = readonly number[]

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = [0, 5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]

/** When the attempt after `attempts` failed ones is due, or null once the schedule is used up (the event has failed). */
export function nextAttemptAfter(attempts: number, lastAttempt: Date, schedule: RetrySchedule = DEFAULT_RETRY_SCHEDULE): Date | null {
  if (attempts >= schedule.length) return null
  return new Date(lastAttempt.getTime() + schedule[attempts])
}

/**
 * `WEBHOOK_RETRY_SCHEDULE_MS` (of `npm start`): comma-separated waits in milliseconds, the first one
 * 0. Lets a developer watch retries happen in seconds while trying a receiver. Unset: the default.
 */
export function envRetrySchedule() {
  return envString().transform((value, ctx): RetrySchedule | undefined => {
    if (value === undefined) return undefined
    const waits = value.split(',').map((wait) => wait.trim())
    if (!waits.every((wait) => /^\d{1,10}$/.test(wait))) {
      ctx.addIssue({ code: 'custom', message: 'must be comma-separated milliseconds, e.g. 0,1000,5000' })
      return z.NEVER
    }
    if (Number(waits[0]) !== 0) {
      ctx.addIssue({ code: 'custom', message: 'the first attempt is at once, so the first wait must be 0' })
      return z.NEVER
    }
    return waits.map(Number)
  })
}
