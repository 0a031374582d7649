import { KMSClient } from '@aws-sdk/client-kms'
import type { StoreEnv } from '../config/env.ts'
import type { ResolvedRuntimeConfig } from '../runtime-config.ts'
import { KmsKeyProvider, LocalKeyProvider, type KeyProvider } from './key-provider.ts'

/** The variables that choose the key provider, as the process's configuration parsed them. */
export type KeySource = Pick<StoreEnv, 'KMS_ENDPOINT' | 'DATA_KEY' | 'DATA_KEY_FILE'>

/** KMS wherever a key is configured (AWS); otherwise the local master key (DATA_KEY or its file). */
export function selectKeyProvider(config: Pick<ResolvedRuntimeConfig, 'kmsKeyId' | 'region'>, env: KeySource): KeyProvider {
  if (config.kmsKeyId) {
    return new KmsKeyProvider(new KMSClient({ region: config.region, ...(env.KMS_ENDPOINT ? { endpoint: env.KMS_ENDPOINT } : {}) }), config.kmsKeyId)
  }
  return LocalKeyProvider.fromEnv(env)
}
