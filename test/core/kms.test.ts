import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KMSClient } from '@aws-sdk/client-kms'
import { KmsKeyProvider } from '@wa-link-broker/core/crypto'
import { localClientConfig, startAwsJsonServer } from '../fixtures/aws-json-server.ts'

const KEY_ID = 'arn:aws:kms:us-east-1:111122223333:key/test-key'

/**
 * A fake KMS that really encrypts: data keys are wrapped with its own AES key and the encryption
 * context is authenticated as AAD, so Decrypt with a different context fails as it does in KMS.
 */
function fakeKms() {
  const masterKey = randomBytes(32)
  const aad = (context: unknown) => Buffer.from(JSON.stringify(Object.entries((context ?? {}) as Record<string, string>).sort()))
  const invalidCiphertext = { status: 400, body: { __type: 'InvalidCiphertextException', message: 'The ciphertext is invalid.' } }
  return startAwsJsonServer(({ target, input }) => {
    if (target === 'TrentService.GenerateDataKey') {
      const plaintext = randomBytes(32)
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', masterKey, iv)
      cipher.setAAD(aad(input.EncryptionContext))
      const blob = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
      return { body: { KeyId: input.KeyId, Plaintext: plaintext.toString('base64'), CiphertextBlob: blob.toString('base64') } }
    }
    if (target === 'TrentService.Decrypt') {
      const blob = Buffer.from(String(input.CiphertextBlob), 'base64')
      const decipher = createDecipheriv('aes-256-gcm', masterKey, blob.subarray(0, 12))
      decipher.setAAD(aad(input.EncryptionContext))
      decipher.setAuthTag(blob.subarray(blob.length - 16))
      try {
        const plaintext = Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()])
        return { body: { KeyId: KEY_ID, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } }
      } catch {
        return invalidCiphertext
      }
    }
    return { status: 400, body: { __type: 'UnknownOperationException', message: target } }
  })
}

let server: Awaited<ReturnType<typeof fakeKms>>
let provider: KmsKeyProvider

beforeAll(async () => {
  server = await fakeKms()
  provider = new KmsKeyProvider(new KMSClient({ ...localClientConfig(server.endpoint), maxAttempts: 1 }), KEY_ID)
})
afterAll(() => server.close())

describe('KmsKeyProvider against a KMS-protocol server', () => {
  it('generates a data key with the exact request KMS expects', async () => {
    const before = server.calls.length
    const { plaintext, wrapped } = await provider.generateDataKey({ linkId: 'lnk_1' })
    expect(plaintext.length).toBe(32)
    expect(Buffer.from(wrapped, 'base64')).not.toEqual(plaintext)
    const call = server.calls[before]
    expect(call.target).toBe('TrentService.GenerateDataKey')
    expect(call.headers['content-type']).toBe('application/x-amz-json-1.1')
    expect(call.input).toEqual({ KeyId: KEY_ID, KeySpec: 'AES_256', EncryptionContext: { linkId: 'lnk_1' } })
  })

  it('decrypts with the same context and sends the blob, context and key id', async () => {
    const { plaintext, wrapped } = await provider.generateDataKey({ linkId: 'lnk_2' })
    const before = server.calls.length
    expect(await provider.decryptDataKey(wrapped, { linkId: 'lnk_2' })).toEqual(plaintext)
    expect(server.calls[before].target).toBe('TrentService.Decrypt')
    expect(server.calls[before].input).toEqual({ CiphertextBlob: wrapped, EncryptionContext: { linkId: 'lnk_2' }, KeyId: KEY_ID })
  })

  it('fails on a mismatched encryption context, like KMS', async () => {
    const { wrapped } = await provider.generateDataKey({ linkId: 'lnk_3' })
    await expect(provider.decryptDataKey(wrapped, { linkId: 'lnk_other' })).rejects.toMatchObject({ name: 'InvalidCiphertextException' })
  })
})
