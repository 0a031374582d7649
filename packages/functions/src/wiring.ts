import {
  ApiKeyStore,
  ApiKeyVerifier,
  createDocumentClient,
  createLogger,
  LinkService,
  LinkStore,
  RateLimiter,
  type LinkLauncher,
  type Logger,
  type RuntimeConfig,
} from '@wa-link-broker/core'
import type { AppDeps } from './deps.ts'

export interface WiringOptions {
  config: RuntimeConfig
  launcher: (logger: Logger) => LinkLauncher
  logger?: Logger
  /** Links a tenant may start a minute. */
  createLimitPerMinute?: number
}

/** Builds the app's dependencies from configuration: the adapters' one shared composition root. */
export function buildDeps(options: WiringOptions): AppDeps {
  const logger = options.logger ?? createLogger({ name: 'api' })
  const doc = createDocumentClient({ tableName: options.config.tableName, region: options.config.region, endpoint: options.config.dynamodbEndpoint })
  const store = new LinkStore(doc, options.config.tableName)
  const limit = options.createLimitPerMinute ?? Number(process.env.CREATE_LIMIT_PER_MINUTE ?? 60)
  return {
    logger,
    apiKeys: new ApiKeyVerifier(new ApiKeyStore(doc, options.config.tableName)),
    links: new LinkService({ store, launcher: options.launcher(logger), logger, rateLimiter: new RateLimiter(doc, options.config.tableName, limit) }),
  }
}
