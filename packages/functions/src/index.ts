export { createApp, MAX_BODY_BYTES, type App } from './app.ts'
export type { AppDeps } from './deps.ts'
export { buildDeps } from './wiring.ts'
export { startLocalWebhooks, type LocalWebhooksOptions } from './webhooks/local-runner.ts'
