import { ApiKeyStore, ApiKeyVerifier } from '@wa-link-broker/core/auth'
import { exportAuthState } from '@wa-link-broker/core/auth-state'
import { BrandingStore } from '@wa-link-broker/core/branding'
import type { ResolvedRuntimeConfig } from '@wa-link-broker/core/config'
import type { KeyProvider } from '@wa-link-broker/core/crypto'
import type { LinkLauncher } from '@wa-link-broker/core/launcher'
import { DEFAULT_TENANT_LIMITS, type TenantLimits } from '@wa-link-broker/core/link'
import { LinkService } from '@wa-link-broker/core/link/service'
import { createLogger, type Logger } from '@wa-link-broker/core/logger'
import { createDocumentClient, LinkStore, LogoutRequests, RateLimiter } from '@wa-link-broker/core/store'
import { WebhookEventStore, WebhookSecretStore, WebhookService } from '@wa-link-broker/core/webhooks'
import type { AppDeps } from './deps.ts'

export interface WiringOptions {
  config: Pick<ResolvedRuntimeConfig, 'tableName' | 'region' | 'dynamodbEndpoint' | 'kmsKeyId'>
  launcher: (logger: Logger) => LinkLauncher
  logger?: Logger
  /** Wraps and unwraps data keys (credentials, webhook secrets): `selectKeyProvider` of the process's configuration. */
  keys: KeyProvider
  /** One machine (`npm start`, tests) rather than AWS: see AppDeps.local. Default false. */
  local?: boolean
  /** Per-tenant limits (parsed from the environment by the process); DEFAULT_TENANT_LIMITS for the rest. */
  limits?: Partial<TenantLimits>
  /** Local only: see AppDeps.simulatorControlUrl. */
  simulatorControlUrl?: string
}

/** Builds the app's dependencies from configuration: the adapters' one shared composition root. */
export function buildDeps(options: WiringOptions): AppDeps {
  const { config } = options
  const logger = options.logger ?? createLogger({ name: 'api' })
  const doc = createDocumentClient(config)
  const store = new LinkStore(doc, config.tableName)
  const { keys } = options
  const links = new LinkService({
    store,
    launcher: options.launcher(logger),
    logger,
    rateLimiter: new RateLimiter(doc, config.tableName),
    limits: { ...DEFAULT_TENANT_LIMITS, ...options.limits },
    logouts: new LogoutRequests(doc, config.tableName, store),
    credentials: (linkId) => exportAuthState(linkId, { doc, tableName: config.tableName, keys }),
  })
  return {
    logger,
    local: options.local ?? false,
    simulatorControlUrl: options.simulatorControlUrl,
    apiKeys: new ApiKeyVerifier(new ApiKeyStore(doc, config.tableName)),
    webhooks: new WebhookService({ secrets: new WebhookSecretStore(doc, config.tableName, keys), events: new WebhookEventStore(doc, config.tableName) }),
    links,
    branding: new BrandingStore(doc, config.tableName),
  }
}
