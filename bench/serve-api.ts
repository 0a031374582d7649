/** The API alone, in its own process, for the benchmark to load it from outside. */
import { serve } from '@hono/node-server'
import { resolveRuntimeConfig, createLogger, LoggingLauncher } from '@wa-link-broker/core'
import { buildDeps, createApp } from '@wa-link-broker/functions'

const logger = createLogger({ level: 'warn' })
const app = createApp(buildDeps({ config: resolveRuntimeConfig(), logger, launcher: (log) => new LoggingLauncher(log) }))
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' }, () => process.send?.('ready'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
