import type { KeyProvider } from '../crypto/key-provider.ts'
import { unwrapDataKey } from './data-key.ts'
import { openItem, parseSignalKeySk, partitionItems, SK_CREDS, SK_DATA_KEY, sortKeyOf, WRAPPED_KEY_ATTRIBUTE, type AuthStateStore } from './items.ts'

/** Auth state as plain JSON in Baileys' `BufferJSON` form (Buffers as `{type:'Buffer', data:<base64>}`). */
export interface ExportedAuthState {
  /** `null` while the link has never saved creds. */
  creds: unknown
  keys: Record<string, Record<string, unknown>>
}

/**
 * A link's auth state as Baileys' `BufferJSON` form, read-only and without loading Baileys: values
 * are sealed as `JSON.stringify(value, BufferJSON.replacer)`, so their plaintext is that form already.
 */
export async function exportAuthState(linkId: string, options: AuthStateStore & { keys: KeyProvider }): Promise<ExportedAuthState> {
  const exported: ExportedAuthState = { creds: null, keys: {} }
  const items = await partitionItems(options, linkId)
  const wrapped = items.find((item) => sortKeyOf(item) === SK_DATA_KEY)
  const sealed = items.filter((item) => sortKeyOf(item) !== SK_DATA_KEY)
  if (sealed.length === 0) return exported
  if (!wrapped) throw new Error(`Auth state of ${linkId} has sealed items but no data key.`)
  const key = await unwrapDataKey(options.keys, linkId, wrapped[WRAPPED_KEY_ATTRIBUTE])
  for (const item of sealed) {
    const sk = sortKeyOf(item)
    const value = JSON.parse(openItem(linkId, item, key))
    if (sk === SK_CREDS) {
      exported.creds = value
      continue
    }
    const parsed = parseSignalKeySk(sk)
    if (parsed) (exported.keys[parsed.type] ??= {})[parsed.id] = value
  }
  return exported
}
