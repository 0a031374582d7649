import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb'
import type { KeyProvider } from '../crypto/key-provider.ts'
import { isConditionalCheckFailed } from '../store/client.ts'
import { tableDefinition as T } from '../store/table.ts'
import { itemKey, SK_DATA_KEY, WRAPPED_KEY_ATTRIBUTE, type AuthStateStore } from './items.ts'

/** The link's data key as the KeyProvider wrapped it, or undefined while it has none: the one read of that item. */
async function readWrappedKey(store: AuthStateStore, linkId: string): Promise<string | undefined> {
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: itemKey(linkId, SK_DATA_KEY), ConsistentRead: true }))
  return Item ? String(Item[WRAPPED_KEY_ATTRIBUTE]) : undefined
}

/** Unwraps a data key of `linkId`: the context binds it to the link (see KeyProvider). */
export function unwrapDataKey(keys: KeyProvider, linkId: string, wrapped: unknown): Promise<Buffer> {
  return keys.decryptDataKey(String(wrapped), { linkId })
}

/**
 * A link's data key, fetched (or created) on first need and unwrapped once, so reading a link that
 * has no auth state — e.g. the API exporting a link that never linked — creates nothing. A failed
 * unwrap or creation (KMS briefly unavailable) does not stick: the next call tries again.
 */
export class LinkDataKey {
  private key: Promise<Buffer> | undefined

  constructor(
    private readonly store: AuthStateStore,
    private readonly keys: KeyProvider,
    private readonly linkId: string,
  ) {}

  /** The stored key, or undefined while the link has none. */
  async existing(): Promise<Buffer | undefined> {
    if (this.key) return this.key
    const wrapped = await readWrappedKey(this.store, this.linkId)
    if (wrapped === undefined) return undefined
    this.key ??= this.remember(unwrapDataKey(this.keys, this.linkId, wrapped))
    return this.key
  }

  /** For opening sealed items: they cannot exist without the key. */
  async forRead(): Promise<Buffer> {
    const key = await this.existing()
    if (!key) throw new Error(`Auth state of ${this.linkId} has sealed items but no data key.`)
    return key
  }

  /**
   * For sealing: the stored key, else a new one. `fresh` (nothing can be stored yet) skips the read;
   * a key created meanwhile by another process still wins.
   */
  async forWrite(fresh = false): Promise<Buffer> {
    const existing = fresh && !this.key ? undefined : await this.existing()
    if (existing) return existing
    this.key ??= this.remember(this.create())
    return this.key
  }

  /** The key was erased: later writes must not be sealed under a key nobody can unwrap. */
  forget(): void {
    this.key = undefined
  }

  private remember(pending: Promise<Buffer>): Promise<Buffer> {
    pending.catch(() => {
      if (this.key === pending) this.key = undefined
    })
    return pending
  }

  private async create(): Promise<Buffer> {
    const { plaintext, wrapped } = await this.keys.generateDataKey({ linkId: this.linkId })
    try {
      await this.store.doc.send(
        new PutCommand({
          TableName: this.store.tableName,
          Item: { ...itemKey(this.linkId, SK_DATA_KEY), [WRAPPED_KEY_ATTRIBUTE]: wrapped },
          // Two processes racing to create the key must end up with one: the loser adopts the winner's.
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': T.partitionKey },
        }),
      )
      return plaintext
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error
      const winner = await readWrappedKey(this.store, this.linkId)
      if (winner === undefined) throw new Error(`The data key of ${this.linkId} vanished while it was being created.`)
      return unwrapDataKey(this.keys, this.linkId, winner)
    }
  }
}
