// Answers the routine iq queries a logged-in Baileys client sends, so `connection: 'open'`
// fires promptly (Socket/socket.js CB:success waits on encrypt count, passive active and the
// key-bundle digest; unanswered queries block for defaultQueryTimeoutMs = 60 s). Everything
// else gets an empty result, which Baileys accepts.
import { getBinaryNodeChild, type BinaryNode } from 'baileys'

/** Pre-keys the server claims to hold; above MIN_PREKEY_COUNT so the client uploads none. */
const PRE_KEYS_ON_SERVER = 50

/** Child nodes of the iq result for one client query. */
export function answerRoutineQuery(iq: BinaryNode): BinaryNode[] | undefined {
  const xmlns = iq.attrs.xmlns
  const first = Array.isArray(iq.content) ? iq.content[0] : undefined
  switch (xmlns) {
    case 'encrypt':
      if (getBinaryNodeChild(iq, 'count')) return [{ tag: 'count', attrs: { value: String(PRE_KEYS_ON_SERVER) } }]
      // Any <digest/> passes Baileys' check; without one it re-uploads pre-keys.
      if (getBinaryNodeChild(iq, 'digest')) return [{ tag: 'digest', attrs: {} }]
      return undefined
    case 'abt':
      return [{ tag: 'props', attrs: { protocol: '1' } }]
    case 'privacy':
      return iq.attrs.type === 'get' ? [{ tag: 'privacy', attrs: {} }] : undefined
    case 'blocklist':
      return iq.attrs.type === 'get' ? [{ tag: 'list', attrs: {} }] : undefined
    case 'usync':
      // Echo the usync frame with an empty result list: "nobody found".
      return first ? [{ tag: 'usync', attrs: first.attrs, content: [{ tag: 'list', attrs: {} }] }] : undefined
    default:
      // passive, w:p pings, w:stats, presence-related sets, props…: an empty result is enough.
      return undefined
  }
}
