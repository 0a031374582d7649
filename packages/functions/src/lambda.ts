import { ECSClient } from '@aws-sdk/client-ecs'
import { handle } from 'hono/aws-lambda'
import { RuntimeConfigError } from '@wa-link-broker/core/config'
import { selectKeyProvider } from '@wa-link-broker/core/crypto'
import { LinkDispatcher, HostRegistry } from '@wa-link-broker/core/hosts'
import { EcsLauncher } from '@wa-link-broker/core/launchers/ecs'
import { createLogger } from '@wa-link-broker/core/logger'
import { createDocumentClient } from '@wa-link-broker/core/store'
import { createApp } from './app.ts'
import { loadApiConfig } from './config.ts'
import { buildDeps } from './wiring.ts'

// Parsed once per Lambda instance: a bad value fails the instance's start, naming the variable.
const { runtime: config, keySource, logLevel, limits, warmWorkers } = loadApiConfig()
if (!config.ecs) throw new RuntimeConfigError('No ECS task is linked: the API cannot start workers.')
const ecs = config.ecs

// Built once per Lambda instance; warm invocations reuse clients and the API-key cache.
const app = createApp(
  buildDeps({
    config,
    keys: selectKeyProvider(config, keySource),
    limits,
    logger: createLogger({ name: 'api', level: logLevel }),
    // Warm hosts first (the ECS service, plus hosts started for earlier links); a new task only when
    // none has room. WARM_WORKERS=0: one task per link, as before hosts existed.
    launcher: (logger) =>
      new LinkDispatcher({
        registry: new HostRegistry(createDocumentClient(config), config.tableName),
        launcher: new EcsLauncher({ ecs: new ECSClient({ region: config.region }), ...ecs, logger }),
        warm: warmWorkers,
        logger,
      }),
  }),
)

export const handler = handle(app)
