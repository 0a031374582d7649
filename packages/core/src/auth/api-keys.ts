import { GetCommand, paginateQuery, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { createHash } from 'node:crypto'
import { randomBase32, toBase32 } from '../ids.ts'
import { tableDefinition as T } from '../store/table.ts'
import { isConditionalCheckFailed } from '../store/client.ts'
import { digestsEqual, randomToken, sha256Hex } from './secrets.ts'

export const API_KEY_PREFIX = 'wlb_'
const KEY_PATTERN = /^wlb_([0-9a-z]{16})_([A-Za-z0-9_-]{43})$/

export interface ApiKeyRecord {
  keyId: string
  tenantId: string
  hash: string
  createdAt: string
  revokedAt: string | null
}

export interface TenantPrincipal {
  tenantId: string
  keyId: string
}

const keyItemKey = (keyId: string) => ({ [T.partitionKey]: `APIKEY#${keyId}`, [T.sortKey]: 'APIKEY' })
const KEY_LIST_PARTITION = 'APIKEYS'

/** Tenant API keys: `wlb_<keyId>_<secret>`. Only the SHA-256 of the whole key is stored. */
export class ApiKeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Returns the key itself exactly once; it cannot be recovered afterwards. */
  async create(tenantId: string, fixedKey?: string): Promise<{ key: string; record: ApiKeyRecord }> {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(tenantId)) throw new Error('tenant must be 1-64 characters of letters, digits, _ . -')
    const key = fixedKey ?? `${API_KEY_PREFIX}${randomBase32(10)}_${randomToken(32)}`
    const keyId = parseKeyId(key)
    if (!keyId) throw new Error(`An API key must look like ${API_KEY_PREFIX}<16 base32 chars>_<43 base64url chars>`)
    const record: ApiKeyRecord = { keyId, tenantId, hash: sha256Hex(key), createdAt: new Date().toISOString(), revokedAt: null }
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keyItemKey(keyId), [T.tenantIndex.partitionKey]: KEY_LIST_PARTITION, [T.tenantIndex.sortKey]: `${record.createdAt}#${keyId}`, ...record },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': T.partitionKey },
        }),
      )
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error
      const existing = await this.find(keyId)
      // Re-seeding the same fixed dev key is fine; a different key with a colliding id is not.
      if (!existing || !digestsEqual(existing.hash, record.hash) || existing.tenantId !== tenantId) throw new Error('An API key with this id already exists')
      return { key, record: existing }
    }
    return { key, record }
  }

  async find(keyId: string): Promise<ApiKeyRecord | null> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keyItemKey(keyId), ConsistentRead: true }))
    return res.Item ? toRecord(res.Item) : null
  }

  async list(): Promise<ApiKeyRecord[]> {
    const records: ApiKeyRecord[] = []
    const pages = paginateQuery(
      { client: this.doc },
      {
        TableName: this.tableName,
        IndexName: T.tenantIndex.name,
        KeyConditionExpression: '#gpk = :gpk',
        ExpressionAttributeNames: { '#gpk': T.tenantIndex.partitionKey },
        ExpressionAttributeValues: { ':gpk': KEY_LIST_PARTITION },
      },
    )
    for await (const page of pages) records.push(...(page.Items ?? []).map(toRecord))
    return records
  }

  async revoke(keyId: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyItemKey(keyId),
          UpdateExpression: 'SET revokedAt = :now',
          ConditionExpression: 'attribute_exists(#pk) AND revokedAt = :null',
          ExpressionAttributeNames: { '#pk': T.partitionKey },
          ExpressionAttributeValues: { ':now': new Date().toISOString(), ':null': null },
        }),
      )
      return true
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false
      throw error
    }
  }
}

function toRecord(item: Record<string, unknown>): ApiKeyRecord {
  return { keyId: item.keyId as string, tenantId: item.tenantId as string, hash: item.hash as string, createdAt: item.createdAt as string, revokedAt: (item.revokedAt as string | null) ?? null }
}

export function parseKeyId(key: string): string | null {
  return KEY_PATTERN.exec(key)?.[1] ?? null
}

/** The shortest passphrase deriveApiKey accepts. */
export const MIN_KEY_PASSPHRASE_LENGTH = 16

/**
 * A well-formed API key derived from a passphrase: the same passphrase always gives the same key.
 * For `npm start`'s `DEV_API_KEY`, so a developer's key survives restarts. Only the derived key is
 * a credential; the API never accepts the passphrase itself.
 */
export function deriveApiKey(passphrase: string): string {
  if (passphrase.length < MIN_KEY_PASSPHRASE_LENGTH) throw new Error(`A key passphrase must be at least ${MIN_KEY_PASSPHRASE_LENGTH} characters.`)
  const digest = (part: string) => createHash('sha256').update(`wa-link-broker api key ${part}\0${passphrase}`).digest()
  return `${API_KEY_PREFIX}${toBase32(digest('id').subarray(0, 10))}_${digest('secret').toString('base64url')}`
}

/**
 * Checks a presented key against its stored hash in constant time. A short in-process cache means
 * a warm Lambda does not read the key item on every request; a revocation takes effect within
 * `cacheMs` on every instance.
 */
export class ApiKeyVerifier {
  private readonly cache = new Map<string, { record: ApiKeyRecord | null; fetchedAt: number }>()

  constructor(
    private readonly keys: Pick<ApiKeyStore, 'find'>,
    private readonly cacheMs = 30_000,
    private readonly maxEntries = 1000,
  ) {}

  async verify(presented: string): Promise<TenantPrincipal | null> {
    const keyId = parseKeyId(presented)
    if (!keyId) return null
    const record = await this.lookup(keyId)
    const hash = sha256Hex(presented)
    if (!record || record.revokedAt || !digestsEqual(record.hash, hash)) return null
    return { tenantId: record.tenantId, keyId }
  }

  private async lookup(keyId: string): Promise<ApiKeyRecord | null> {
    const cached = this.cache.get(keyId)
    if (cached && Date.now() - cached.fetchedAt < this.cacheMs) return cached.record
    const record = await this.keys.find(keyId)
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!)
    this.cache.set(keyId, { record, fetchedAt: Date.now() })
    return record
  }
}
