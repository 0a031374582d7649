import type { ApiKeyVerifier } from '@wa-link-broker/core/auth'
import type { BrandingStore } from '@wa-link-broker/core/branding'
import type { LinkService } from '@wa-link-broker/core/link/service'
import type { Logger } from '@wa-link-broker/core/logger'
import type { WebhookService } from '@wa-link-broker/core/webhooks'
import type { AuthEnv } from './auth.ts'

/** Everything the HTTP edge needs from the domain; built once per process by an adapter. */
export interface AppDeps {
  links: LinkService
  branding: BrandingStore
  /** Signing secrets and the delivery log of link events. */
  webhooks: WebhookService
  apiKeys: ApiKeyVerifier
  logger: Logger
  /**
   * True when the service runs on one machine (`npm start`, the tests), false in AWS. Local mode
   * lets developers use `http://localhost` redirect and webhook URLs and private webhook addresses.
   */
  local: boolean
  /**
   * Local only: the control URL of a running WhatsApp simulator (`npm run sim`, `SIM_CONTROL_URL`),
   * so /demo can "scan" with the simulated phone.
   */
  simulatorControlUrl?: string
}

export type AppEnv = AuthEnv
