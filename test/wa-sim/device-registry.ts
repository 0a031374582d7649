// The simulated accounts: one SimPhone per phone number and the companions it linked.
import { jidDecode } from 'baileys'
import { DEFAULT_PHONE_NAME, DEFAULT_PHONE_NUMBER, DEFAULT_PHONE_PLATFORM, SimPhone } from './phone.ts'
import type { PhoneProfile, SimDevice } from './types.ts'

interface DeviceRecord extends SimDevice {
  companionIdentityKey: Buffer
}

export class DeviceRegistry {
  private readonly phones = new Map<string, SimPhone>()
  private readonly records: DeviceRecord[] = []

  /** The phone for a number (created on first use); a given name/platform updates it. */
  phone(profile: PhoneProfile = {}): SimPhone {
    const phoneNumber = normalizePhoneNumber(profile.phoneNumber ?? DEFAULT_PHONE_NUMBER)
    let phone = this.phones.get(phoneNumber)
    if (!phone) {
      phone = new SimPhone(phoneNumber, DEFAULT_PHONE_NAME, DEFAULT_PHONE_PLATFORM)
      this.phones.set(phoneNumber, phone)
    }
    if (profile.name) phone.name = profile.name
    if (profile.platform) phone.platform = profile.platform
    return phone
  }

  add(phone: SimPhone, jid: string, lid: string, companionIdentityKey: Buffer): SimDevice {
    const record: DeviceRecord = {
      jid,
      lid,
      phoneNumber: phone.phoneNumber,
      name: phone.name,
      platform: phone.platform,
      loggedOut: false,
      companionIdentityKey,
    }
    this.records.push(record)
    return toPublic(record)
  }

  list(): SimDevice[] {
    return this.records.map(toPublic)
  }

  /**
   * Finds a device by its exact jid or lid; a bare user jid ('15550001234@s.whatsapp.net' or
   * just the number) picks that phone's newest device that is still linked.
   */
  find(jidOrNumber: string): SimDevice | undefined {
    const record = this.findRecord(jidOrNumber)
    return record && toPublic(record)
  }

  markLoggedOut(jidOrNumber: string): SimDevice | undefined {
    const record = this.findRecord(jidOrNumber)
    if (!record) return undefined
    record.loggedOut = true
    return toPublic(record)
  }

  private findRecord(jidOrNumber: string): DeviceRecord | undefined {
    const exact = this.records.find(r => r.jid === jidOrNumber || r.lid === jidOrNumber)
    if (exact) return exact
    const user = jidDecode(jidOrNumber)?.user ?? normalizePhoneNumber(jidOrNumber)
    const candidates = this.records.filter(r => r.phoneNumber === user)
    return candidates.reverse().find(r => !r.loggedOut) ?? candidates[0]
  }
}

export function normalizePhoneNumber(phoneNumber: string): string {
  return phoneNumber.replace(/\D/g, '')
}

function toPublic({ companionIdentityKey: _key, ...device }: DeviceRecord): SimDevice {
  return { ...device }
}
