export { createApp, MAX_BODY_BYTES, type App } from './app.ts'
export type { AppDeps } from './deps.ts'
export { buildDeps } from './wiring.ts'
export { LOCAL_DEV_TENANT } from './routes/demo.ts'
