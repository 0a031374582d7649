import { ECSClient } from '@aws-sdk/client-ecs'
import { createDocumentClient, createLogger, Dispatcher, EcsLauncher, HostRegistry, LinkStore, LogoutRequests, sweepLogouts, sweepStaleLinks } from '@wa-link-broker/core'
import { loadSweeperConfig } from './config.ts'

// The scheduled sweeper (sst.aws.CronV2 "Sweeper", once a minute): settles links whose worker died,
// and sends again the logouts whose worker died (when an ECS task is linked to start one).
// Built once per Lambda instance; warm invocations reuse the client.
const { runtime: config, logLevel, warmWorkers } = loadSweeperConfig()
const logger = createLogger({ name: 'sweeper', level: logLevel })
const doc = createDocumentClient(config)
const store = new LinkStore(doc, config.tableName)
const requests = new LogoutRequests(doc, config.tableName, store)
const dispatcher = config.ecs
  ? new Dispatcher({
      registry: new HostRegistry(doc, config.tableName),
      launcher: new EcsLauncher({ ecs: new ECSClient({ region: config.region }), ...config.ecs, logger }),
      warm: warmWorkers,
      logger,
    })
  : undefined

export async function handler(): Promise<{ lost: number; expired: number }> {
  const started = Date.now()
  const { lost, expired } = await sweepStaleLinks(store, { logger })
  const logouts = dispatcher ? await sweepLogouts({ store, requests, dispatch: (linkId) => dispatcher.launch({ linkId, mode: 'logout' }), logger }) : {}
  logger.info({ lost, expired, logouts, ms: Date.now() - started }, 'sweep done')
  return { lost, expired }
}
