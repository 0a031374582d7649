import { KMSClient } from '@aws-sdk/client-kms'
import { KmsKeyProvider, LocalKeyProvider, type KeyProvider } from './key-provider.ts'

/** The variables that choose the key provider, as the process's configuration parsed them. */
export interface KeySource {
  KMS_ENDPOINT?: string
  DATA_KEY?: string
  DATA_KEY_FILE?: string
}

/** KMS wherever a key is configured (AWS); otherwise the local master key (DATA_KEY or its file). */
export function selectKeyProvider(config: { kmsKeyId?: string; region: string }, env: KeySource): KeyProvider {
  if (config.kmsKeyId) {
    return new KmsKeyProvider(new KMSClient({ region: config.region, ...(env.KMS_ENDPOINT ? { endpoint: env.KMS_ENDPOINT } : {}) }), config.kmsKeyId)
  }
  return LocalKeyProvider.fromEnv(env)
}
