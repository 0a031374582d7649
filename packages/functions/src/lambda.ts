import { ECSClient } from '@aws-sdk/client-ecs'
import { handle } from 'hono/aws-lambda'
import { EcsLauncher, resolveRuntimeConfig, RuntimeConfigError } from '@wa-link-broker/core'
import { createApp } from './app.ts'
import { buildDeps } from './wiring.ts'

const config = resolveRuntimeConfig()
if (!config.ecs) throw new RuntimeConfigError('No ECS task is linked: the API cannot start workers.')
const ecs = config.ecs

// Built once per Lambda instance; warm invocations reuse clients and the API-key cache.
const app = createApp(
  buildDeps({
    config,
    launcher: (logger) => new EcsLauncher({ ecs: new ECSClient({ region: config.region }), ...ecs, logger }),
  }),
)

export const handler = handle(app)
