import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.ts'
import { normalizePhoneNumber } from './phone.ts'

describe('normalizePhoneNumber', () => {
  it.each([
    ['+1 (234) 567-8901', '12345678901'],
    ['1 234 567 8901', '12345678901'],
    ['0044 20 7946 0958', '442079460958'],
    ['+44 20/7946.0958', '442079460958'],
    [' +55 11 98765 4321 ', '5511987654321'],
  ])('%s → %s (E.164 digits, no +)', (input, digits) => {
    expect(normalizePhoneNumber(input)).toBe(digits)
  })

  it.each(['call me', '+1 234 567 8901 ext 5', '12', '+999 1234567'])('refuses %j, naming the field', (input) => {
    expect(() => normalizePhoneNumber(input)).toThrow(ValidationError)
    expect(() => normalizePhoneNumber(input, 'phone')).toThrow(/^phone: /)
  })
})
