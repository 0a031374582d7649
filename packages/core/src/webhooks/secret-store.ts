import { randomBytes } from 'node:crypto'
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { open, seal } from '../crypto/envelope.ts'
import type { KeyProvider } from '../crypto/key-provider.ts'
import { RateLimitedError } from '../errors.ts'
import { toBase32 } from '../ids.ts'
import { isConditionalCheckFailed } from '../store/client.ts'
import { tableDefinition as T } from '../store/table.ts'

/**
 * Each tenant's webhook signing secret (Standard Webhooks: `whsec_` + base64 of 32 random bytes),
 * stored sealed under the same envelope as WhatsApp credentials: a data key from the KeyProvider
 * (KMS in AWS) bound to `{tenantId}`, AES-256-GCM with the secret's place as AAD.
 *   pk WHSECRET#<tenantId>, sk WHSECRET: `current`; `retiring`, every secret a rotation replaced,
 *   newest first, each with the time it retires (pruned at the next rotation once retired);
 *   `version` guards concurrent rotations. Items written before `retiring` existed carry at most
 *   one `previous` instead: read as a list of one, and replaced by `retiring` at the next rotation.
 */

export const WEBHOOK_SECRET_PREFIX = 'whsec_'
const SECRET_BYTES = 32
/** After a rotation, deliveries are signed with the old secret too for this long. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000
/**
 * At most this many secrets sign a delivery at once, the current one included: each is one more
 * HMAC and one more entry in `webhook-signature` on every delivery, so rotating in a loop must not
 * grow them without bound. A rotation that would exceed it is refused until the oldest retires.
 */
export const MAX_SIGNING_SECRETS = 10
/** The error code of that refusal (a 429 with Retry-After at the HTTP edge). */
export const TOO_MANY_ROTATIONS = 'too_many_rotations'
const MAX_CACHED_KEYS = 1000

interface SealedSecret {
  id: string
  wrappedKey: string
  sealed: string
  createdAt: string
  /** Only once rotated away: when deliveries stop carrying its signature. */
  retiresAt?: string
}

type RetiringSecret = SealedSecret & { retiresAt: string }

interface SecretItem {
  current: SealedSecret
  /** The secrets rotations replaced, newest first; some may have retired since the last rotation. */
  retiring?: RetiringSecret[]
  /** The stored shape before `retiring`: the one secret the last rotation replaced. */
  previous?: RetiringSecret
  version: number
}

/** The replaced secrets of an item, whichever shape it was written in. */
function retiringOf(item: SecretItem): RetiringSecret[] {
  return item.retiring ?? (item.previous ? [item.previous] : [])
}

/** Those still signing at `now`. */
function notRetired(secrets: RetiringSecret[], now: Date): RetiringSecret[] {
  return secrets.filter((s) => Date.parse(s.retiresAt) > now.getTime())
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

  /**
   * Every secret a delivery is signed with now: the current one, then each one rotated away within
   * ROTATION_OVERLAP_MS (newest first), so a receiver still holding any of them keeps verifying.
   */
  async signingSecrets(tenantId: string): Promise<string[]> {
    const item = (await this.read(tenantId)) ?? (await this.create(tenantId))
    const live = [item.current, ...notRetired(retiringOf(item), this.now())]
    return Promise.all(live.map((s) => this.openSecret(tenantId, s)))
  }

  /**
   * A new current secret; the one it replaces keeps signing for ROTATION_OVERLAP_MS, as do those
   * earlier rotations replaced, until each one's own time is up. Refused (RateLimitedError) when
   * more than MAX_SIGNING_SECRETS would sign at once.
   */
  async rotate(tenantId: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const existing = await this.read(tenantId)
      if (!existing) {
        const created = await this.create(tenantId)
        return this.openSecret(tenantId, created.current)
      }
      const retiring = this.afterRotation(existing)
      const { secret, sealed } = await this.newSecret(tenantId)
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: itemKey(tenantId),
            // `previous` is the shape before `retiring`: its secret is in the list now.
            UpdateExpression: 'SET #current = :current, #retiring = :retiring, #version = :next REMOVE #previous',
            ConditionExpression: '#version = :version',
            ExpressionAttributeNames: { '#current': 'current', '#retiring': 'retiring', '#previous': 'previous', '#version': 'version' },
            ExpressionAttributeValues: { ':current': sealed, ':retiring': retiring, ':version': existing.version, ':next': existing.version + 1 },
          }),
        )
        return secret
      } catch (error) {
        // Another rotation won: rotate again on top of it (and count against the cap again).
        if (!isConditionalCheckFailed(error) || attempt >= 3) throw error
      }
    }
  }

  /**
   * The `retiring` list once `item.current` is rotated away: it joins the list, and the secrets
   * that have retired leave it (pruned here, so the item stays small without a sweep of its own).
   */
  private afterRotation(item: SecretItem): RetiringSecret[] {
    const now = this.now()
    const replaced = { ...item.current, retiresAt: new Date(now.getTime() + ROTATION_OVERLAP_MS).toISOString() }
    const retiring = [replaced, ...notRetired(retiringOf(item), now)]
    // The new current secret signs too.
    if (retiring.length + 1 > MAX_SIGNING_SECRETS) throw tooManyRotations(retiring, now)
    return retiring
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

/** The refusal of a rotation over the cap: retry once the oldest secret still signing retires. */
function tooManyRotations(retiring: RetiringSecret[], now: Date): RateLimitedError {
  const oldest = Math.min(...retiring.map((s) => Date.parse(s.retiresAt)))
  const retryAfterSeconds = Math.max(1, Math.ceil((oldest - now.getTime()) / 1000))
  return new RateLimitedError(
    retryAfterSeconds,
    `Too many webhook secret rotations: at most ${MAX_SIGNING_SECRETS} secrets sign at once (the current one and those rotated away within the last ${ROTATION_OVERLAP_MS / 3600_000} h)`,
    TOO_MANY_ROTATIONS,
  )
}

/** Binds a sealed secret to its tenant and id: copied to another tenant's item, it does not open. */
const aad = (tenantId: string, id: string) => `WHSECRET#${tenantId}/${id}`
