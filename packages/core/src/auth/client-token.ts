import { digestsEqual, randomToken, sha256Hex } from './secrets.ts'

export const CLIENT_TOKEN_PREFIX = 'lct_'

/**
 * A client token lets a mobile app read one link and nothing else. Only its hash is stored, on the
 * link itself, so the token dies with the link and needs no signing secret.
 */
export function newClientToken(): { token: string; hash: string } {
  const token = `${CLIENT_TOKEN_PREFIX}${randomToken(32)}`
  return { token, hash: sha256Hex(token) }
}

/**
 * Whether `token` reads `link`. A token only ever reads, so it keeps reading after the link ended
 * (the final status, without QR, code or credentials) until the item's TTL removes it: an app or the
 * hosted page then shows the real outcome instead of a 404.
 */
export function clientTokenOpensLink(token: string, link: { clientTokenHashes: readonly string[] }): boolean {
  const hash = sha256Hex(token)
  // Compare against every hash, with no early exit, so timing says nothing of which matched.
  return link.clientTokenHashes.reduce((found, stored) => digestsEqual(stored, hash) || found, false)
}
