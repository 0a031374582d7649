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
 * A schedule from configuration (`WEBHOOK_RETRY_SCHEDULE_MS` of `npm start`): comma-separated
 * waits in milliseconds, the first one 0. Lets a developer watch retries happen in seconds.
 */
export function parseRetrySchedule(text: string, name = 'WEBHOOK_RETRY_SCHEDULE_MS'): RetrySchedule {
  const waits = text.split(',').map((part) => part.trim())
  if (!waits.every((w) => /^\d{1,10}$/.test(w))) throw new Error(`Invalid configuration: ${name}: must be comma-separated milliseconds, e.g. 0,1000,5000`)
  const schedule = waits.map(Number)
  if (schedule[0] !== 0) throw new Error(`Invalid configuration: ${name}: the first attempt is at once, so the first wait must be 0`)
  return schedule
}
