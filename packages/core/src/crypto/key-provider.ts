import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms'
import { KEY_BYTES, open, seal } from './envelope.ts'

/** A data key as handed out by a key provider: use `plaintext` now, store only `wrapped`. */
export interface DataKey {
  plaintext: Buffer
  wrapped: string
}

/**
 * Envelope encryption's key-encryption side. `context` is bound into the wrapped key, so a
 * wrapped key copied to another link's item cannot be unwrapped there.
 */
export interface KeyProvider {
  generateDataKey(context: Record<string, string>): Promise<DataKey>
  decryptDataKey(wrapped: string, context: Record<string, string>): Promise<Buffer>
}

export const DEFAULT_DATA_KEY_FILE = '.data/data-key'

/** Order-independent, so `{a, b}` and `{b, a}` describe the same context. */
function contextAad(context: Record<string, string>): string {
  const entries = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `wa-link-broker/data-key:${JSON.stringify(entries)}`
}

/** Wraps data keys with a master key held by this process: for local runs and tests. */
export class LocalKeyProvider implements KeyProvider {
  private readonly masterKey: Buffer

  constructor(masterKey: Buffer) {
    if (masterKey.length !== KEY_BYTES) throw new Error(`The local master key must be ${KEY_BYTES} bytes, got ${masterKey.length}.`)
    this.masterKey = Buffer.from(masterKey)
  }

  /**
   * `DATA_KEY` (base64 of 32 bytes) wins; otherwise the key file at `DATA_KEY_FILE`
   * (default `.data/data-key` under `cwd`), created owner-only with a fresh key when missing
   * so that `npm start` works on a fresh machine.
   */
  static fromEnv(env: { DATA_KEY?: string; DATA_KEY_FILE?: string }, cwd = process.cwd()): LocalKeyProvider {
    if (env.DATA_KEY) return new LocalKeyProvider(decodeKey(env.DATA_KEY, 'DATA_KEY'))
    return new LocalKeyProvider(readOrCreateKeyFile(resolve(cwd, env.DATA_KEY_FILE || DEFAULT_DATA_KEY_FILE)))
  }

  async generateDataKey(context: Record<string, string>): Promise<DataKey> {
    const plaintext = randomBytes(KEY_BYTES)
    return { plaintext, wrapped: seal(plaintext, this.masterKey, contextAad(context)) }
  }

  async decryptDataKey(wrapped: string, context: Record<string, string>): Promise<Buffer> {
    return open(wrapped, this.masterKey, contextAad(context))
  }
}

function decodeKey(base64: string, source: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64')
  if (key.length !== KEY_BYTES) {
    // Never echo the value: it is (meant to be) a secret.
    throw new Error(`${source} must be the base64 encoding of exactly ${KEY_BYTES} bytes, got ${key.length} bytes.`)
  }
  return key
}

function readOrCreateKeyFile(path: string): Buffer {
  try {
    return decodeKey(readFileSync(path, 'utf8'), `The key file ${path}`)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  try {
    // 'wx': if another process created the file in the meantime, use its key, not ours.
    writeFileSync(path, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' })
    chmodSync(path, 0o600) // the umask may have narrowed the mode, never widened it; make it exact
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  return decodeKey(readFileSync(path, 'utf8'), `The key file ${path}`)
}

/** Data keys from AWS KMS; the master key never leaves KMS. */
export class KmsKeyProvider implements KeyProvider {
  constructor(
    private readonly kms: KMSClient,
    private readonly keyId: string,
  ) {}

  async generateDataKey(context: Record<string, string>): Promise<DataKey> {
    const out = await this.kms.send(
      new GenerateDataKeyCommand({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: context }),
    )
    if (!out.Plaintext || !out.CiphertextBlob) throw new Error('KMS GenerateDataKey returned no key.')
    return { plaintext: Buffer.from(out.Plaintext), wrapped: Buffer.from(out.CiphertextBlob).toString('base64') }
  }

  async decryptDataKey(wrapped: string, context: Record<string, string>): Promise<Buffer> {
    const out = await this.kms.send(
      new DecryptCommand({ CiphertextBlob: Buffer.from(wrapped, 'base64'), EncryptionContext: context, KeyId: this.keyId }),
    )
    if (!out.Plaintext) throw new Error('KMS Decrypt returned no plaintext.')
    return Buffer.from(out.Plaintext)
  }
}
