import { describe, expect, it } from 'vitest'
import { nestsDeeperThan } from './json-depth.ts'

const nested = (levels: number) => {
  let value: unknown = 'leaf'
  for (let i = 0; i < levels; i++) value = i % 2 ? [value] : { k: value }
  return value
}

describe('nestsDeeperThan', () => {
  it('counts objects and arrays as levels, scalars as none', () => {
    expect(nestsDeeperThan('x', 0)).toBe(false)
    expect(nestsDeeperThan(null, 0)).toBe(false)
    expect(nestsDeeperThan({}, 0)).toBe(true)
    expect(nestsDeeperThan({}, 1)).toBe(false)
    expect(nestsDeeperThan({ a: [1, { b: 2 }] }, 3)).toBe(false)
    expect(nestsDeeperThan({ a: [1, { b: 2 }] }, 2)).toBe(true)
    expect(nestsDeeperThan(nested(32), 32)).toBe(false)
    expect(nestsDeeperThan(nested(33), 32)).toBe(true)
  })

  it('walks a value far deeper than the stack allows for recursion', () => {
    const deep = JSON.parse(`{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`)
    expect(() => JSON.stringify(deep)).toThrow(RangeError)
    expect(nestsDeeperThan(deep, 32)).toBe(true)
    expect(nestsDeeperThan(deep, 300_000)).toBe(false)
  })
})
