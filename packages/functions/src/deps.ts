import type { ApiKeyVerifier, LinkService, Logger } from '@wa-link-broker/core'
import type { AuthEnv } from './auth.ts'

/** Everything the HTTP edge needs from the domain; built once per process by an adapter. */
export interface AppDeps {
  links: LinkService
  apiKeys: ApiKeyVerifier
  logger: Logger
}

export type AppEnv = AuthEnv
