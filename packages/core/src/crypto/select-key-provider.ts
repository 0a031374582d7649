import { KMSClient } from '@aws-sdk/client-kms'
import type { ResolvedRuntimeConfig } from '../runtime-config.ts'
import { KmsKeyProvider, LocalKeyProvider, type KeyProvider } from './key-provider.ts'

/** KMS wherever a key is configured (AWS); otherwise the local master key (DATA_KEY or its file). */
export function selectKeyProvider(config: Pick<ResolvedRuntimeConfig, 'kmsKeyId' | 'region'>, env: Record<string, string | undefined> = process.env): KeyProvider {
  if (config.kmsKeyId) {
    return new KmsKeyProvider(new KMSClient({ region: config.region, ...(env.KMS_ENDPOINT ? { endpoint: env.KMS_ENDPOINT } : {}) }), config.kmsKeyId)
  }
  return LocalKeyProvider.fromEnv(env)
}
