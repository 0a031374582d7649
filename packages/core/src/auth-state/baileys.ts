import type { AuthenticationCreds, AuthenticationState, SignalDataSet, SignalDataTypeMap } from 'baileys'
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb'
import type { KeyProvider } from '../crypto/key-provider.ts'
import { batchGet, batchWrite } from '../store/batch.ts'
import { LinkDataKey } from './data-key.ts'
import { eraseAuthState } from './erase.ts'
import { exportAuthState, type ExportedAuthState } from './export.ts'
import { itemKey, openItem, parseSignalKeySk, SK_CREDS, sealedItem, signalKeySk, sortKeyOf, type AuthStateStore } from './items.ts'

// `@wa-link-broker/core/auth-state/baileys`: Baileys' AuthenticationState on the items of items.ts.

export interface AuthStateOptions extends AuthStateStore {
  keys: KeyProvider
  /**
   * Nothing can be stored yet (the link's first holder): skip reading creds and the data key, which
   * saves two reads before the first QR. A data key created meanwhile by another process still wins.
   */
  fresh?: boolean
}

export interface DynamoDBAuthState {
  state: AuthenticationState
  saveCreds(): Promise<void>
  /** Deletes every item of the link, data key included. */
  clear(): Promise<void>
  exportState(): Promise<ExportedAuthState>
}

export async function useDynamoDBAuthState(linkId: string, options: AuthStateOptions): Promise<DynamoDBAuthState> {
  // Loaded on first use, not at import: a worker can start its DynamoDB claim while Baileys is still loading.
  const { BufferJSON, initAuthCreds, proto } = await import('baileys')
  const { doc, tableName } = options
  const dataKey = new LinkDataKey(options, options.keys, linkId)

  const sealValue = (sk: string, value: unknown, key: Buffer) => sealedItem(linkId, sk, JSON.stringify(value, BufferJSON.replacer), key)
  const openValue = (item: Record<string, unknown>, key: Buffer): unknown => JSON.parse(openItem(linkId, item, key), BufferJSON.reviver)

  function revive<K extends keyof SignalDataTypeMap>(type: K, value: unknown): SignalDataTypeMap[K] {
    // As Baileys' own file store does: this type is a protobuf message, not a plain object.
    if (type === 'app-state-sync-key') return proto.Message.AppStateSyncKeyData.fromObject(value as object) as unknown as SignalDataTypeMap[K]
    return value as SignalDataTypeMap[K]
  }

  async function readCreds(): Promise<AuthenticationCreds | undefined> {
    const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: itemKey(linkId, SK_CREDS), ConsistentRead: true }))
    if (!Item) return undefined
    return openValue(Item, await dataKey.forRead()) as AuthenticationCreds
  }

  const creds = (options.fresh ? undefined : await readCreds()) ?? initAuthCreds()

  const state: AuthenticationState = {
    creds,
    keys: {
      async get(type, ids) {
        const result: { [id: string]: SignalDataTypeMap[typeof type] } = {}
        const wanted = [...new Set(ids)]
        if (wanted.length === 0) return result
        const items = await batchGet(doc, tableName, wanted.map((id) => itemKey(linkId, signalKeySk(type, id))))
        if (items.length === 0) return result
        const key = await dataKey.forRead()
        for (const item of items) {
          const parsed = parseSignalKeySk(sortKeyOf(item))
          if (parsed) result[parsed.id] = revive(type, openValue(item, key))
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
              requests.push({ DeleteRequest: { Key: itemKey(linkId, sk) } })
            } else {
              key ??= await dataKey.forWrite(options.fresh)
              requests.push({ PutRequest: { Item: sealValue(sk, value, key) } })
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
      const key = await dataKey.forWrite(options.fresh)
      await doc.send(new PutCommand({ TableName: tableName, Item: sealValue(SK_CREDS, creds, key) }))
    },
    async clear() {
      await eraseAuthState(linkId, options)
      dataKey.forget()
    },
    exportState: () => exportAuthState(linkId, options),
  }
}
