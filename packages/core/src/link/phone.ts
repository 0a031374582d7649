import { parsePhoneNumberFromString } from 'libphonenumber-js'
import { ValidationError } from '../errors.ts'

/**
 * Normalises a phone number written in any common human format to E.164 digits without `+`
 * (`+1 (234) 567-8901` → `12345678901`), which is what WhatsApp's jids and Baileys'
 * `requestPairingCode` take. Numbers must carry their country code: a broker has no default region.
 */
export function normalizePhoneNumber(input: string, field = 'phoneNumber'): string {
  const trimmed = input.trim()
  if (!/^[+\d\s().\-/]+$/.test(trimmed)) throw new ValidationError(field, 'must contain only digits, spaces, + ( ) . - /')
  const digits = trimmed.replace(/\D/g, '')
  const withPlus = trimmed.startsWith('+') ? trimmed : trimmed.startsWith('00') ? `+${digits.slice(2)}` : `+${digits}`
  const parsed = parsePhoneNumberFromString(withPlus)
  if (!parsed || !parsed.isValid()) {
    throw new ValidationError(field, 'is not a valid phone number with country code (e.g. +1 234 567 8901)')
  }
  return parsed.number.slice(1)
}
