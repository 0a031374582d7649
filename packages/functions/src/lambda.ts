import { ECSClient } from '@aws-sdk/client-ecs'
import { handle } from 'hono/aws-lambda'
import { createDocumentClient, Dispatcher, EcsLauncher, HostRegistry, resolveRuntimeConfig, RuntimeConfigError } from '@wa-link-broker/core'
import { createApp } from './app.ts'
import { buildDeps } from './wiring.ts'

const config = resolveRuntimeConfig()
if (!config.ecs) throw new RuntimeConfigError('No ECS task is linked: the API cannot start workers.')
const ecs = config.ecs

// Built once per Lambda instance; warm invocations reuse clients and the API-key cache.
const app = createApp(
  buildDeps({
    config,
    // Warm hosts first (the ECS service, plus hosts started for earlier links); a new task only when
    // none has room. WARM_WORKERS=0: one task per link, as before hosts existed.
    launcher: (logger) =>
      new Dispatcher({
        registry: new HostRegistry(createDocumentClient(config), config.tableName),
        launcher: new EcsLauncher({ ecs: new ECSClient({ region: config.region }), ...ecs, logger }),
        warm: process.env.WARM_WORKERS !== '0',
        logger,
      }),
  }),
)

export const handler = handle(app)
