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
