import { paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { open, seal } from '../crypto/envelope.ts'
import { tableDefinition as T } from '../store/table.ts'

/**
 * Baileys' auth state (creds + signal keys) in the single table, one partition per link:
 *   pk AUTH#<linkId>, sk `datakey`            — the link's data key, wrapped by the KeyProvider
 *   pk AUTH#<linkId>, sk `creds`              — sealed creds
 *   pk AUTH#<linkId>, sk `key#<type>#<id>`    — one sealed signal key
 * Every value is sealed with AES-256-GCM under the link's data key, with `${linkId}/${sk}` as AAD
 * so a ciphertext copied to another item (or link) does not open there. The items carry no TTL:
 * a linked session's credentials must outlive the link's own retention.
 */

/** Where a link's auth state is. */
export interface AuthStateStore {
  doc: DynamoDBDocumentClient
  tableName: string
}

export const SK_DATA_KEY = 'datakey'
export const SK_CREDS = 'creds'
const KEY_PREFIX = 'key#'
const VALUE_ATTRIBUTE = 'sealed'
export const WRAPPED_KEY_ATTRIBUTE = 'wrappedKey'

const partition = (linkId: string) => `AUTH#${linkId}`

export const itemKey = (linkId: string, sk: string) => ({ [T.partitionKey]: partition(linkId), [T.sortKey]: sk })

export const signalKeySk = (type: string, id: string) => `${KEY_PREFIX}${type}#${id}`

export function parseSignalKeySk(sk: string): { type: string; id: string } | undefined {
  if (!sk.startsWith(KEY_PREFIX)) return undefined
  const rest = sk.slice(KEY_PREFIX.length)
  const hash = rest.indexOf('#')
  return hash < 0 ? undefined : { type: rest.slice(0, hash), id: rest.slice(hash + 1) }
}

export const sortKeyOf = (item: Record<string, unknown>) => String(item[T.sortKey])

/** An item holding `plaintext` (JSON text) sealed under the link's data key. */
export function sealedItem(linkId: string, sk: string, plaintext: string, key: Buffer): Record<string, unknown> {
  return { ...itemKey(linkId, sk), [VALUE_ATTRIBUTE]: seal(Buffer.from(plaintext, 'utf8'), key, `${linkId}/${sk}`) }
}

/** The JSON text a sealed item holds. */
export function openItem(linkId: string, item: Record<string, unknown>, key: Buffer): string {
  return open(String(item[VALUE_ATTRIBUTE]), key, `${linkId}/${sortKeyOf(item)}`).toString('utf8')
}

/** Every item of the link's partition (only their keys with `keysOnly`), strongly consistent. */
export async function partitionItems(store: AuthStateStore, linkId: string, { keysOnly = false } = {}): Promise<Record<string, unknown>[]> {
  const pages = paginateQuery(
    { client: store.doc },
    {
      TableName: store.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': T.partitionKey, ...(keysOnly ? { '#sk': T.sortKey } : {}) },
      ExpressionAttributeValues: { ':pk': partition(linkId) },
      ...(keysOnly ? { ProjectionExpression: '#pk, #sk' } : {}),
      ConsistentRead: true,
    },
  )
  const items: Record<string, unknown>[] = []
  for await (const page of pages) items.push(...(page.Items ?? []))
  return items
}
