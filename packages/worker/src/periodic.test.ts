import { describe, expect, it } from 'vitest'
import { every } from './periodic.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('every', () => {
  it('never runs a slow task twice at once', async () => {
    let running = 0
    let peak = 0
    let runs = 0
    const stop = every(5, async () => {
      running++
      peak = Math.max(peak, running)
      await sleep(30)
      running--
      runs++
    }, () => undefined)
    await sleep(200)
    stop()
    expect(runs).toBeGreaterThanOrEqual(3)
    expect(peak).toBe(1)
  })

  it('goes on after a failed run and reports it; stops when told', async () => {
    const errors: unknown[] = []
    let runs = 0
    const stop = every(5, async () => {
      runs++
      if (runs === 1) throw new Error('boom')
    }, (e) => errors.push(e))
    await sleep(60)
    stop()
    const after = runs
    await sleep(30)
    expect(errors).toHaveLength(1)
    expect(after).toBeGreaterThan(2)
    expect(runs).toBe(after)
  })
})
