import { handle } from 'hono/aws-lambda'
import { configFromEnv, LoggingLauncher } from '@wa-link-broker/core'
import { createApp } from './app.ts'
import { buildDeps } from './wiring.ts'

// Built once per Lambda instance; warm invocations reuse clients and the API-key cache.
const app = createApp(buildDeps({ config: configFromEnv(), launcher: (logger) => new LoggingLauncher(logger) }))

export const handler = handle(app)
