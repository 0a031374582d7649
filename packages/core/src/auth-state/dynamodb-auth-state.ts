import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb'
import type { AuthenticationCreds, AuthenticationState, SignalDataSet, SignalDataTypeMap } from 'baileys'
import { open, seal } from '../crypto/envelope.ts'
import type { KeyProvider } from '../crypto/key-provider.ts'
import { isConditionalCheckFailed } from '../store/client.ts'
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

export interface AuthStateStore {
  doc: DynamoDBDocumentClient
  tableName: string
}

export interface AuthStateOptions extends AuthStateStore {
  keys: KeyProvider
  /**
   * Nothing can be stored yet (the link's first holder): skip reading creds and the data key, which
   * saves two reads before the first QR. A data key created meanwhile by another process still wins.
   */
  fresh?: boolean
}

/** Auth state as plain JSON in Baileys' `BufferJSON` form (Buffers as `{type:'Buffer', data:<base64>}`). */
export interface ExportedAuthState {
  /** `null` while the link has never saved creds. */
  creds: unknown
  keys: Record<string, Record<string, unknown>>
}

export interface DynamoDBAuthState {
  state: AuthenticationState
  saveCreds(): Promise<void>
  /** Deletes every item of the link, data key included. */
  clear(): Promise<void>
  exportState(): Promise<ExportedAuthState>
}

const SK_DATA_KEY = 'datakey'
const SK_CREDS = 'creds'
const KEY_PREFIX = 'key#'
const VALUE_ATTRIBUTE = 'sealed'
const WRAPPED_KEY_ATTRIBUTE = 'wrappedKey'

/** DynamoDB's own per-request limits. */
const BATCH_GET_LIMIT = 100
const BATCH_WRITE_LIMIT = 25
/** How many batch requests of one call run at once; Baileys uploads ~800 pre-keys in one set(). */
const BATCH_PARALLELISM = 8
const MAX_BATCH_ATTEMPTS = 10

const partition = (linkId: string) => `AUTH#${linkId}`
const signalKeySk = (type: string, id: string) => `${KEY_PREFIX}${type}#${id}`

function parseSignalKeySk(sk: string): { type: string; id: string } | undefined {
  if (!sk.startsWith(KEY_PREFIX)) return undefined
  const rest = sk.slice(KEY_PREFIX.length)
  const hash = rest.indexOf('#')
  return hash < 0 ? undefined : { type: rest.slice(0, hash), id: rest.slice(hash + 1) }
}

export async function useDynamoDBAuthState(linkId: string, options: AuthStateOptions): Promise<DynamoDBAuthState> {
  // Loaded on first use, not at import: the API reads exported state without Baileys (~3 MB), and
  // a worker can start its DynamoDB claim while Baileys is still loading.
  const { BufferJSON, initAuthCreds, proto } = await import('baileys')
  const { doc, tableName, keys: keyProvider } = options
  const pk = partition(linkId)
  const keyContext = { linkId }
  const aad = (sk: string) => `${linkId}/${sk}`

  // The data key is fetched (or created) on first need, so reading a link that has no auth
  // state — e.g. the API exporting a link that never linked — creates nothing.
  let dataKey: Promise<Buffer> | undefined

  async function existingDataKey(): Promise<Buffer | undefined> {
    if (dataKey) return dataKey
    const { Item } = await doc.send(
      new GetCommand({ TableName: tableName, Key: { [T.partitionKey]: pk, [T.sortKey]: SK_DATA_KEY }, ConsistentRead: true }),
    )
    if (!Item) return undefined
    dataKey ??= unwrap(String(Item[WRAPPED_KEY_ATTRIBUTE]))
    return dataKey
  }

  function unwrap(wrapped: string): Promise<Buffer> {
    const pending = keyProvider.decryptDataKey(wrapped, keyContext)
    // A failed unwrap (e.g. KMS briefly unavailable) must not stick: the next call tries again.
    pending.catch(() => {
      if (dataKey === pending) dataKey = undefined
    })
    return pending
  }

  async function createDataKey(): Promise<Buffer> {
    const { plaintext, wrapped } = await keyProvider.generateDataKey(keyContext)
    try {
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { [T.partitionKey]: pk, [T.sortKey]: SK_DATA_KEY, [WRAPPED_KEY_ATTRIBUTE]: wrapped },
          // Two processes racing to create the key must end up with one: the loser adopts the winner's.
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': T.partitionKey },
        }),
      )
      return plaintext
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error
      const { Item } = await doc.send(
        new GetCommand({ TableName: tableName, Key: { [T.partitionKey]: pk, [T.sortKey]: SK_DATA_KEY }, ConsistentRead: true }),
      )
      if (!Item) throw new Error(`The data key of ${linkId} vanished while it was being created.`)
      return keyProvider.decryptDataKey(String(Item[WRAPPED_KEY_ATTRIBUTE]), keyContext)
    }
  }

  async function dataKeyForWrite(): Promise<Buffer> {
    const existing = options.fresh && !dataKey ? undefined : await existingDataKey()
    if (existing) return existing
    if (!dataKey) {
      const pending = createDataKey()
      pending.catch(() => {
        if (dataKey === pending) dataKey = undefined
      })
      dataKey = pending
    }
    return dataKey
  }

  async function dataKeyForRead(): Promise<Buffer> {
    const key = await existingDataKey()
    if (!key) throw new Error(`Auth state of ${linkId} has sealed items but no data key.`)
    return key
  }

  const sealValue = (value: unknown, key: Buffer, sk: string) =>
    seal(Buffer.from(JSON.stringify(value, BufferJSON.replacer), 'utf8'), key, aad(sk))
  const openValue = (sealed: string, key: Buffer, sk: string): unknown =>
    JSON.parse(open(sealed, key, aad(sk)).toString('utf8'), BufferJSON.reviver)

  function revive<K extends keyof SignalDataTypeMap>(type: K, value: unknown): SignalDataTypeMap[K] {
    // As Baileys' own file store does: this type is a protobuf message, not a plain object.
    if (type === 'app-state-sync-key') return proto.Message.AppStateSyncKeyData.fromObject(value as object) as unknown as SignalDataTypeMap[K]
    return value as SignalDataTypeMap[K]
  }

  async function readCreds(): Promise<AuthenticationCreds | undefined> {
    const { Item } = await doc.send(
      new GetCommand({ TableName: tableName, Key: { [T.partitionKey]: pk, [T.sortKey]: SK_CREDS }, ConsistentRead: true }),
    )
    if (!Item) return undefined
    return openValue(String(Item[VALUE_ATTRIBUTE]), await dataKeyForRead(), SK_CREDS) as AuthenticationCreds
  }

  const creds = (options.fresh ? undefined : await readCreds()) ?? initAuthCreds()

  const state: AuthenticationState = {
    creds,
    keys: {
      async get(type, ids) {
        const result: { [id: string]: SignalDataTypeMap[typeof type] } = {}
        const wanted = [...new Set(ids)]
        if (wanted.length === 0) return result
        const items = await batchGet(doc, tableName, wanted.map((id) => ({ [T.partitionKey]: pk, [T.sortKey]: signalKeySk(type, id) })))
        if (items.length === 0) return result
        const key = await dataKeyForRead()
        for (const item of items) {
          const sk = String(item[T.sortKey])
          const parsed = parseSignalKeySk(sk)
          if (!parsed) continue
          result[parsed.id] = revive(type, openValue(String(item[VALUE_ATTRIBUTE]), key, sk))
        }
        return result
      },
      async set(data: SignalDataSet) {
        const requests: Record<string, unknown>[] = []
        let key: Buffer | undefined
        for (const [type, values] of Object.entries(data)) {
          for (const [id, value] of Object.entries(values ?? {})) {
            const sk = signalKeySk(type, id)
            if (value === null || value === undefined) {
              requests.push({ DeleteRequest: { Key: { [T.partitionKey]: pk, [T.sortKey]: sk } } })
            } else {
              key ??= await dataKeyForWrite()
              requests.push({ PutRequest: { Item: { [T.partitionKey]: pk, [T.sortKey]: sk, [VALUE_ATTRIBUTE]: sealValue(value, key, sk) } } })
            }
          }
        }
        await batchWrite(doc, tableName, requests)
      },
    },
  }

  return {
    state,
    async saveCreds() {
      const key = await dataKeyForWrite()
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { [T.partitionKey]: pk, [T.sortKey]: SK_CREDS, [VALUE_ATTRIBUTE]: sealValue(creds, key, SK_CREDS) },
        }),
      )
    },
    async clear() {
      await eraseAuthState(linkId, { doc, tableName })
      // Later writes through this instance would be sealed under a key nobody can unwrap.
      dataKey = undefined
    },
    exportState: () => exportAuthState(linkId, options),
  }
}

/**
 * A link's auth state as Baileys' `BufferJSON` form, read-only and without loading Baileys: values
 * are sealed as `JSON.stringify(value, BufferJSON.replacer)`, so their plaintext is that form already.
 */
export async function exportAuthState(linkId: string, options: AuthStateOptions): Promise<ExportedAuthState> {
  const exported: ExportedAuthState = { creds: null, keys: {} }
  const items = await queryPartition(options.doc, options.tableName, partition(linkId))
  const wrapped = items.find((item) => item[T.sortKey] === SK_DATA_KEY)
  const sealed = items.filter((item) => item[T.sortKey] !== SK_DATA_KEY)
  if (sealed.length === 0) return exported
  if (!wrapped) throw new Error(`Auth state of ${linkId} has sealed items but no data key.`)
  const key = await options.keys.decryptDataKey(String(wrapped[WRAPPED_KEY_ATTRIBUTE]), { linkId })
  for (const item of sealed) {
    const sk = String(item[T.sortKey])
    const value = JSON.parse(open(String(item[VALUE_ATTRIBUTE]), key, `${linkId}/${sk}`).toString('utf8'))
    if (sk === SK_CREDS) {
      exported.creds = value
      continue
    }
    const parsed = parseSignalKeySk(sk)
    if (parsed) (exported.keys[parsed.type] ??= {})[parsed.id] = value
  }
  return exported
}

/** Deletes a link's whole auth state; needs no key provider (e.g. the API erasing a logged-out link). */
export async function eraseAuthState(linkId: string, store: AuthStateStore): Promise<void> {
  const items = await queryPartition(store.doc, store.tableName, partition(linkId), true)
  await batchWrite(
    store.doc,
    store.tableName,
    items.map((item) => ({ DeleteRequest: { Key: { [T.partitionKey]: item[T.partitionKey], [T.sortKey]: item[T.sortKey] } } })),
  )
}

async function queryPartition(doc: DynamoDBDocumentClient, tableName: string, pk: string, keysOnly = false) {
  const items: Record<string, unknown>[] = []
  let ExclusiveStartKey: Record<string, unknown> | undefined
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': T.partitionKey, ...(keysOnly ? { '#sk': T.sortKey } : {}) },
        ExpressionAttributeValues: { ':pk': pk },
        ...(keysOnly ? { ProjectionExpression: '#pk, #sk' } : {}),
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    )
    items.push(...(page.Items ?? []))
    ExclusiveStartKey = page.LastEvaluatedKey
  } while (ExclusiveStartKey)
  return items
}

async function batchGet(doc: DynamoDBDocumentClient, tableName: string, keys: Record<string, unknown>[]) {
  const items: Record<string, unknown>[] = []
  await inParallel(chunk(keys, BATCH_GET_LIMIT), async (batch) => {
    let pending: Record<string, unknown>[] = batch
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 1) await backoff(attempt, 'BatchGetItem', pending.length)
      const out = await doc.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
      )
      items.push(...(out.Responses?.[tableName] ?? []))
      pending = out.UnprocessedKeys?.[tableName]?.Keys ?? []
    }
  })
  return items
}

async function batchWrite(doc: DynamoDBDocumentClient, tableName: string, requests: Record<string, unknown>[]) {
  await inParallel(chunk(requests, BATCH_WRITE_LIMIT), async (batch) => {
    let pending = batch
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 1) await backoff(attempt, 'BatchWriteItem', pending.length)
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }))
      pending = (out.UnprocessedItems?.[tableName] ?? []) as Record<string, unknown>[]
    }
  })
}

/** Unprocessed items mean the table is throttling us: wait longer each time, and give up eventually. */
async function backoff(attempt: number, operation: string, left: number): Promise<void> {
  if (attempt > MAX_BATCH_ATTEMPTS) throw new Error(`${operation} left ${left} items unprocessed after ${MAX_BATCH_ATTEMPTS} attempts.`)
  const ceiling = Math.min(2000, 25 * 2 ** attempt)
  await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)))
}

function chunk<V>(values: V[], size: number): V[][] {
  const chunks: V[][] = []
  for (let i = 0; i < values.length; i += size) chunks.push(values.slice(i, i + size))
  return chunks
}

async function inParallel<V>(values: V[], work: (value: V) => Promise<void>): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < values.length) await work(values[next++])
  }
  await Promise.all(Array.from({ length: Math.min(BATCH_PARALLELISM, values.length) }, lane))
}
