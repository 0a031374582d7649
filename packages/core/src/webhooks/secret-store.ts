import { randomBytes } from 'node:crypto'
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { open, seal } from '../crypto/envelope.ts'
import type { KeyProvider } from '../crypto/key-provider.ts'
import { toBase32 } from '../ids.ts'
import { isConditionalCheckFailed } from '../store/client.ts'
import { tableDefinition as T } from '../store/table.ts'

/**
 * Each tenant's webhook signing secret (Standard Webhooks: `whsec_` + base64 of 32 random bytes),
 * stored sealed under the same envelope as WhatsApp credentials: a data key from the KeyProvider
 * (KMS in AWS) bound to `{tenantId}`, AES-256-GCM with the secret's place as AAD.
 *   pk WHSECRET#<tenantId>, sk WHSECRET: `current`, and after a rotation `previous` with the
 *   time it retires; `version` guards concurrent rotations.
 */

export const WEBHOOK_SECRET_PREFIX = 'whsec_'
const SECRET_BYTES = 32
/** After a rotation, deliveries are signed with the old secret too for this long. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000
const MAX_CACHED_KEYS = 1000

interface SealedSecret {
  id: string
  wrappedKey: string
  sealed: string
  createdAt: string
  /** Only on `previous`: when deliveries stop carrying its signature. */
  retiresAt?: string
}

interface SecretItem {
  current: SealedSecret
  previous?: SealedSecret
  version: number
}

const itemKey = (tenantId: string) => ({ [T.partitionKey]: `WHSECRET#${tenantId}`, [T.sortKey]: 'WHSECRET' })

export class WebhookSecretStore {
  /** Unwrapped data keys by wrapped key: one KMS call per secret and process, not per delivery. */
  private readonly dataKeys = new Map<string, Promise<Buffer>>()

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly keys: KeyProvider,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The tenant's current secret, created on first use. */
  async current(tenantId: string): Promise<string> {
    const item = (await this.read(tenantId)) ?? (await this.create(tenantId))
    return this.openSecret(tenantId, item.current)
  }

  /** Every secret a delivery is signed with now: the current one, and the previous one while it has not retired. */
  async signingSecrets(tenantId: string): Promise<string[]> {
    const item = (await this.read(tenantId)) ?? (await this.create(tenantId))
    const live = [item.current]
    if (item.previous?.retiresAt && Date.parse(item.previous.retiresAt) > this.now().getTime()) live.push(item.previous)
    return Promise.all(live.map((s) => this.openSecret(tenantId, s)))
  }

  /** A new current secret; the one it replaces keeps signing for ROTATION_OVERLAP_MS. */
  async rotate(tenantId: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const existing = await this.read(tenantId)
      if (!existing) {
        const created = await this.create(tenantId)
        return this.openSecret(tenantId, created.current)
      }
      const { secret, sealed } = await this.newSecret(tenantId)
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: itemKey(tenantId),
            UpdateExpression: 'SET #current = :current, #previous = :previous, #version = :next',
            ConditionExpression: '#version = :version',
            ExpressionAttributeNames: { '#current': 'current', '#previous': 'previous', '#version': 'version' },
            ExpressionAttributeValues: {
              ':current': sealed,
              ':previous': { ...existing.current, retiresAt: new Date(this.now().getTime() + ROTATION_OVERLAP_MS).toISOString() },
              ':version': existing.version,
              ':next': existing.version + 1,
            },
          }),
        )
        return secret
      } catch (error) {
        // Another rotation won: rotate again on top of it.
        if (!isConditionalCheckFailed(error) || attempt >= 3) throw error
      }
    }
  }

  private async read(tenantId: string): Promise<SecretItem | null> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: itemKey(tenantId), ConsistentRead: true }))
    return res.Item ? (res.Item as unknown as SecretItem) : null
  }

  private async create(tenantId: string): Promise<SecretItem> {
    const { sealed } = await this.newSecret(tenantId)
    const item: SecretItem = { current: sealed, version: 1 }
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...itemKey(tenantId), ...item },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': T.partitionKey },
        }),
      )
      return item
    } catch (error) {
      // Two first reads raced: both must answer with the one secret that was stored.
      if (!isConditionalCheckFailed(error)) throw error
      const stored = await this.read(tenantId)
      if (!stored) throw error
      return stored
    }
  }

  private async newSecret(tenantId: string): Promise<{ secret: string; sealed: SealedSecret }> {
    const secret = `${WEBHOOK_SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`
    const id = toBase32(randomBytes(10))
    const { plaintext, wrapped } = await this.keys.generateDataKey({ tenantId })
    this.dataKeys.set(wrapped, Promise.resolve(plaintext))
    return { secret, sealed: { id, wrappedKey: wrapped, sealed: seal(Buffer.from(secret, 'utf8'), plaintext, aad(tenantId, id)), createdAt: this.now().toISOString() } }
  }

  private async openSecret(tenantId: string, secret: SealedSecret): Promise<string> {
    let key = this.dataKeys.get(secret.wrappedKey)
    if (!key) {
      if (this.dataKeys.size >= MAX_CACHED_KEYS) this.dataKeys.delete(this.dataKeys.keys().next().value!)
      key = this.keys.decryptDataKey(secret.wrappedKey, { tenantId })
      // A failed unwrap (KMS briefly unavailable) must not stick.
      key.catch(() => this.dataKeys.delete(secret.wrappedKey))
      this.dataKeys.set(secret.wrappedKey, key)
    }
    return open(secret.sealed, await key, aad(tenantId, secret.id)).toString('utf8')
  }
}

/** Binds a sealed secret to its tenant and id: copied to another tenant's item, it does not open. */
const aad = (tenantId: string, id: string) => `WHSECRET#${tenantId}/${id}`
