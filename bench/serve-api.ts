/** The API alone, in its own process, for the benchmark to load it from outside. */
import { serve } from '@hono/node-server'
import { selectKeyProvider } from '@wa-link-broker/core/crypto'
import { LoggingLauncher } from '@wa-link-broker/core/launcher'
import { createLogger } from '@wa-link-broker/core/logger'
import { buildDeps, createApp, loadApiConfig } from '@wa-link-broker/functions'

const logger = createLogger({ level: 'warn' })
const { runtime, keySource } = loadApiConfig(process.env)
const app = createApp(buildDeps({ config: runtime, keys: selectKeyProvider(runtime, keySource), logger, launcher: (log) => new LoggingLauncher(log) }))
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' }, () => process.send?.('ready'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
