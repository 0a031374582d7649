import { resolve } from 'node:path'
import { z } from 'zod'
import { deriveApiKey, MIN_KEY_PASSPHRASE_LENGTH, parseKeyId } from '@wa-link-broker/core/auth'
import { envInt, envString, envUrl, parseEnv } from '@wa-link-broker/core/config'
import { envRetrySchedule } from '@wa-link-broker/core/webhooks'
import { apiEnvSchema } from '@wa-link-broker/functions'

const port = (fallback: number) => envInt(fallback, { min: 1, max: 65535 })

/**
 * `npm start`'s environment: the API's own variables plus the local stack's. Workers read theirs
 * themselves (the launcher passes this environment through).
 */
export const startEnvSchema = apiEnvSchema
  .extend({
    PORT: port(3000),
    HOST: envString().transform((value) => value ?? '127.0.0.1'),
    DYNAMODB_PORT: port(8000),
    DATA_DIR: envString().transform((value) => (value ? resolve(value) : undefined)),
    /** Where the workers connect (they parse it themselves; npm start says it). */
    WA_WS_URL: envUrl(['ws', 'wss']),
    /** A running simulator's control URL (`npm run sim`), for /demo's "scan with the simulator" button. */
    SIM_CONTROL_URL: envUrl(['http', 'https']),
    /** Webhook retries in seconds rather than over a day, while a developer tries a receiver. */
    WEBHOOK_RETRY_SCHEDULE_MS: envRetrySchedule(),
    DEV_API_KEY: envString()
      .refine(
        (value) => value === undefined || parseKeyId(value) !== null || value.length >= MIN_KEY_PASSPHRASE_LENGTH,
        `must be at least ${MIN_KEY_PASSPHRASE_LENGTH} characters: any passphrase, from which npm start derives the API key (the same one on every start), e.g. DEV_API_KEY=$(openssl rand -hex 16)`,
      )
      // A well-formed key is used as it is; any other passphrase gives a derived one.
      .transform((value) => (value === undefined || parseKeyId(value) ? value : deriveApiKey(value))),
  })
  .refine((env) => env.PORT !== env.DYNAMODB_PORT, { path: ['DYNAMODB_PORT'], message: 'must differ from PORT' })

export type StartConfig = z.output<typeof startEnvSchema> & { devApiKeyDerived: boolean }

export function loadStartConfig(env: Record<string, string | undefined>): StartConfig {
  const parsed = parseEnv(startEnvSchema, env)
  return { ...parsed, devApiKeyDerived: parsed.DEV_API_KEY !== undefined && parsed.DEV_API_KEY !== env.DEV_API_KEY?.trim() }
}
