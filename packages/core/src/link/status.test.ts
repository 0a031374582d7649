import { describe, expect, it } from 'vitest'
import { canTransition, LINK_STATUSES, type LinkStatus } from './status.ts'

// Written out by hand from the contract, so the implementation is checked against the spec and not against itself.
const ALLOWED: Record<LinkStatus, LinkStatus[]> = {
  pending: ['starting', 'expired', 'failed', 'cancelled'],
  starting: ['awaiting_scan', 'awaiting_code', 'expired', 'failed', 'cancelled'],
  awaiting_scan: ['awaiting_code', 'pairing', 'expired', 'failed', 'cancelled'],
  awaiting_code: ['pairing', 'expired', 'failed', 'cancelled'],
  pairing: ['linked', 'expired', 'failed', 'cancelled'],
  linked: ['unlinked'],
  expired: [],
  failed: [],
  cancelled: [],
  unlinked: [],
}

describe('link state machine', () => {
  for (const from of LINK_STATUSES) {
    for (const to of LINK_STATUSES) {
      const allowed = ALLOWED[from].includes(to)
      it(`${from} → ${to} is ${allowed ? 'allowed' : 'refused'}`, () => {
        expect(canTransition(from, to)).toBe(allowed)
      })
    }
  }
})
