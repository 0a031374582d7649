import { describe, expect, it } from 'vitest'
import { heartbeatWrite, linkUpdateWrite } from './link-update.ts'

const NOW = new Date('2030-01-01T00:00:00.000Z')

/** The expression with every `#name` and `:value` put back, to read what a write does. */
function spelled({ expression, conditions, names, values }: ReturnType<typeof linkUpdateWrite>) {
  const fill = (text: string) => text.replace(/#\w+/g, (n) => names[n] ?? n).replace(/:\w+/g, (v) => (v in values ? JSON.stringify(values[v]) : v))
  return { update: fill(expression), conditions: conditions.map(fill) }
}

describe('linkUpdateWrite', () => {
  it('moves the status only from the statuses given, bumping version and updatedAt', () => {
    expect(spelled(linkUpdateWrite({ from: ['starting'], to: 'awaiting_scan', patch: { qr: null } }, NOW))).toEqual({
      update: 'SET version = version + 1, updatedAt = "2030-01-01T00:00:00.000Z", qr = null, status = "awaiting_scan"',
      conditions: ['status IN ("starting")'],
    })
  })

  it('holds under the fence, the version and the heartbeat read, and takes the lease', () => {
    const write = spelled(linkUpdateWrite({ from: ['pending', 'starting'], fence: 3, version: 7, heartbeatAt: null, takeLease: true }, NOW))
    expect(write.conditions).toEqual(['status IN ("pending", "starting")', 'leaseToken = 3', 'version = 7', 'heartbeatAt = null'])
    expect(write.update).toContain('leaseToken = leaseToken + 1')
  })

  it('an undefined field is removed; ending a link leaves the activity index and sets its TTL', () => {
    const write = spelled(linkUpdateWrite({ from: ['awaiting_scan'], to: 'failed', patch: { workerId: undefined } }, NOW))
    expect(write.update).toMatch(/^SET version = version \+ 1, updatedAt = "2030-01-01T00:00:00.000Z", ttl = \d+, status = "failed" REMOVE workerId, gsi2pk, gsi2sk$/)
  })

  it('a heartbeat in a patch moves the link within the activity index', () => {
    expect(spelled(linkUpdateWrite({ from: ['starting'], patch: { heartbeatAt: '2030-01-01T00:00:09.000Z' } }, NOW)).update).toContain('gsi2sk = "H#2030-01-01T00:00:09.000Z"')
    // …but not for a link that is not in the index (a linked one's logout worker).
    expect(spelled(linkUpdateWrite({ from: ['linked'], patch: { heartbeatAt: '2030-01-01T00:00:09.000Z' } }, NOW)).update).not.toContain('gsi2sk')
  })

  it('refuses what the state machine refuses, and a write from no status', () => {
    expect(() => linkUpdateWrite({ from: ['linked'], to: 'failed' }, NOW)).toThrow('Illegal transition linked → failed')
    expect(() => linkUpdateWrite({ from: ['pending'], to: 'linked' }, NOW)).toThrow('Illegal transition pending → linked')
    expect(() => linkUpdateWrite({ from: [] }, NOW)).toThrow('update.from must name at least one status')
  })
})

describe('heartbeatWrite', () => {
  it('touches only the heartbeat and the activity sort key, under the lease, while in progress', () => {
    expect(spelled(heartbeatWrite(4, '2030-01-01T00:00:09.000Z'))).toEqual({
      update: 'SET heartbeatAt = "2030-01-01T00:00:09.000Z", gsi2sk = "H#2030-01-01T00:00:09.000Z"',
      conditions: ['leaseToken = 4', 'status IN ("pending", "starting", "awaiting_scan", "awaiting_code", "pairing")'],
    })
  })
})
