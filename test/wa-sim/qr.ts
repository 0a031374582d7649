// Parses the QR string Baileys renders (Utils/companion-reg-client-utils.js buildPairingQRData):
//   https://wa.me/settings/linked_devices#<ref>,<noiseKeyB64>,<identityKeyB64>,<advSecretB64>,<platformId>
// A real phone needs exactly these parts: the ref to find the waiting socket, the keys to check
// it is the right companion, and the adv secret to authenticate pair-success.
const QR_PREFIX = 'https://wa.me/settings/linked_devices#'

export interface ScannedQr {
  ref: string
  noiseKey: Buffer
  identityKey: Buffer
  /** Base64, exactly as Baileys stores creds.advSecretKey. */
  advSecretB64: string
  platformId: string
}

export function parsePairingQr(qr: string): ScannedQr {
  const data = qr.startsWith(QR_PREFIX) ? qr.slice(QR_PREFIX.length) : qr
  const parts = data.split(',')
  if (parts.length < 4) throw new Error('not a WhatsApp pairing QR (expected ref,noiseKey,identityKey,advSecret[,platform])')
  const [ref, noiseKeyB64, identityKeyB64, advSecretB64, platformId = ''] = parts as [string, string, string, string, string?]
  const noiseKey = Buffer.from(noiseKeyB64, 'base64')
  const identityKey = Buffer.from(identityKeyB64, 'base64')
  if (noiseKey.length !== 32 || identityKey.length !== 32 || Buffer.from(advSecretB64, 'base64').length !== 32) {
    throw new Error('malformed pairing QR: keys must be 32 bytes')
  }
  return { ref, noiseKey, identityKey, advSecretB64, platformId }
}
