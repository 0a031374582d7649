import type { LinkView } from '../link-view.ts'

/**
 * What a person would do with the link on screen, done by the WhatsApp simulator's phone
 * (`npm run sim`'s control URL): type the pairing code if there is one, else scan the QR.
 * `nothing` while the link shows neither; `refused` with the simulator's status when it said no.
 */
export async function actAsThePhone(simulatorControlUrl: string, view: LinkView): Promise<{ done: true } | { done: false; nothing: true } | { done: false; refused: number }> {
  const [path, body] = view.pairingCode
    ? ['/enter-code', { phoneNumber: view.phoneNumber, code: view.pairingCode.code }]
    : view.qr
      ? ['/scan', { qr: view.qr.value }]
      : [null, null]
  if (!path) return { done: false, nothing: true }
  const res = await fetch(new URL(path, simulatorControlUrl), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  return res.ok ? { done: true } : { done: false, refused: res.status }
}
