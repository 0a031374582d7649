export { createApp, MAX_BODY_BYTES, type App } from './app.ts'
export type { AppDeps } from './deps.ts'
export { buildDeps } from './wiring.ts'
export { apiEnvSchema, loadApiConfig, loadSweeperConfig, sweeperEnvSchema, type ApiConfig } from './config.ts'
