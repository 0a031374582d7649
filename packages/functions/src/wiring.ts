import {
  ApiKeyStore,
  ApiKeyVerifier,
  BrandingStore,
  createDocumentClient,
  createLogger,
  LinkService,
  LinkStore,
  RateLimiter,
  selectKeyProvider,
  exportAuthState,
  WebhookEventStore,
  WebhookSecretStore,
  WebhookService,
  type KeyProvider,
  type LinkLauncher,
  type Logger,
  type ResolvedRuntimeConfig,
} from '@wa-link-broker/core'
import type { AppDeps } from './deps.ts'

export interface WiringOptions {
  config: Pick<ResolvedRuntimeConfig, 'tableName' | 'region' | 'dynamodbEndpoint' | 'kmsKeyId'>
  launcher: (logger: Logger) => LinkLauncher
  logger?: Logger
  /** Unwraps credential data keys; by default KMS when configured, else the local master key. */
  keys?: KeyProvider
  /** One machine (`npm start`, tests) rather than AWS: see AppDeps.local. Default false. */
  local?: boolean
  /** Local only: see AppDeps.simulatorControlUrl. */
  simulatorControlUrl?: string
  /** Links a tenant may start a minute. */
  createLimitPerMinute?: number
}

/** Builds the app's dependencies from configuration: the adapters' one shared composition root. */
export function buildDeps(options: WiringOptions): AppDeps {
  const { config } = options
  const logger = options.logger ?? createLogger({ name: 'api' })
  const doc = createDocumentClient(config)
  const store = new LinkStore(doc, config.tableName)
  const keys = options.keys ?? selectKeyProvider(config)
  const limit = options.createLimitPerMinute ?? Number(process.env.CREATE_LIMIT_PER_MINUTE ?? 60)
  const links = new LinkService({
    store,
    launcher: options.launcher(logger),
    logger,
    rateLimiter: new RateLimiter(doc, config.tableName, limit),
    credentials: (linkId) => exportAuthState(linkId, { doc, tableName: config.tableName, keys }),
  })
  return {
    logger,
    local: options.local ?? false,
    simulatorControlUrl: options.simulatorControlUrl,
    apiKeys: new ApiKeyVerifier(new ApiKeyStore(doc, config.tableName)),
    webhooks: new WebhookService({ secrets: new WebhookSecretStore(doc, config.tableName, keys), events: new WebhookEventStore(doc, config.tableName) }),
    links,
    branding: new BrandingStore(doc, config.tableName, { service: links, store }),
  }
}
