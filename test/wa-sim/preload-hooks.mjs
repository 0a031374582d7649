// Loader hooks registered by preload.mjs (runs on Node's loader thread).
// Baileys pins WhatsApp's root key as a hex literal in Defaults/index.js
// (WA_CERT_DETAILS.PUBLIC_KEY). Swapping that literal in the module source before it is
// evaluated means the handshake's certificate check uses the simulator's test root key,
// whichever module instance or bundle reads it.

/** WhatsApp's real noise root key, as pinned in baileys@7.0.0-rc14 Defaults/index.js. */
const PINNED_WA_ROOT_KEY_HEX = '142375574d0a587166aae71ebe516437c4a28b73e3695c6ce1f7f9545da8ee6b'

let testRootKeyHex = PINNED_WA_ROOT_KEY_HEX

export async function initialize(data) {
  if (!/^[0-9a-f]{64}$/.test(data?.publicKeyHex ?? '')) {
    throw new Error('wa-sim preload: test root key must be 32 bytes of lowercase hex')
  }
  testRootKeyHex = data.publicKeyHex
}

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context)
  // Only Baileys' own files can carry the pinned key; leave everything else untouched.
  if (!url.includes('/baileys/') || result.source == null) return result
  const source = typeof result.source === 'string' ? result.source : Buffer.from(result.source).toString('utf8')
  if (!source.includes(PINNED_WA_ROOT_KEY_HEX)) return result
  return { ...result, source: source.replaceAll(PINNED_WA_ROOT_KEY_HEX, testRootKeyHex) }
}
