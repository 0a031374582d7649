import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.ts'
import { decodeCursor, encodeCursor, statusFilter } from './link-list.ts'

const key = { pk: 'LINK#lnk_a', sk: 'LINK', gsi1pk: 'TENANT#acme', gsi1sk: '2030-01-01T00:00:00.000Z#lnk_a' }

describe('list cursors', () => {
  it('round-trip a position in the caller’s own partition', () => {
    expect(decodeCursor(encodeCursor(key), 'TENANT#acme')).toEqual(key)
  })

  it.each([
    ['another tenant’s position', encodeCursor(key), 'TENANT#other'],
    ['a key of another item', encodeCursor({ ...key, sk: 'IDEMP' }), 'TENANT#acme'],
    ['a key whose link id does not match its sort key', encodeCursor({ ...key, pk: 'LINK#lnk_b' }), 'TENANT#acme'],
    ['a key with an extra field', encodeCursor({ ...key, extra: 'x' }), 'TENANT#acme'],
    ['not JSON', 'bm90IGpzb24', 'TENANT#acme'],
  ])('refuse %s', (_, cursor, partition) => {
    expect(() => decodeCursor(cursor, partition)).toThrow(ValidationError)
    expect(() => decodeCursor(cursor, partition)).toThrow('cursor: is not a cursor returned by this list')
  })
})

describe('statusFilter', () => {
  const now = new Date('2030-01-01T00:00:00.000Z')

  it('expired: stored so, or in progress past its deadline', () => {
    const filter = statusFilter('expired', now)
    expect(filter.expression).toBe('#status = :status OR (#status IN (:live0, :live1, :live2, :live3, :live4) AND #expiresAt <= :now)')
    expect(filter.values).toMatchObject({ ':status': 'expired', ':now': now.toISOString(), ':live0': 'pending', ':live4': 'pairing' })
  })

  it('in progress: stored so and not past its deadline; final or linked: stored so', () => {
    expect(statusFilter('awaiting_scan', now).expression).toBe('#status = :status AND #expiresAt > :now')
    expect(statusFilter('linked', now)).toEqual({ names: { '#status': 'status' }, values: { ':status': 'linked' }, expression: '#status = :status' })
    expect(statusFilter('failed', now).expression).toBe('#status = :status')
  })
})
