import { ECSClient } from '@aws-sdk/client-ecs'
import { LinkDispatcher, HostRegistry } from '@wa-link-broker/core/hosts'
import { EcsLauncher, stopOrphanedTasks } from '@wa-link-broker/core/launchers/ecs'
import { createLogger } from '@wa-link-broker/core/logger'
import { createDocumentClient, LinkStore, LogoutRequests } from '@wa-link-broker/core/store'
import { sweepLogouts, sweepStaleLinks } from '@wa-link-broker/core/sweeper'
import { loadSweeperConfig } from './config.ts'

// The scheduled sweeper (sst.aws.CronV2 "Sweeper", once a minute): settles links whose worker died,
// sends again the logouts whose worker died, and stops worker tasks that outlive their link.
// Built once per Lambda instance.
const { runtime: config, logLevel, warmWorkers } = loadSweeperConfig()
const logger = createLogger({ name: 'sweeper', level: logLevel })
const doc = createDocumentClient(config)
const store = new LinkStore(doc, config.tableName)
const requests = new LogoutRequests(doc, config.tableName, store)
const ecs = config.ecs && { client: new ECSClient({ region: config.region }), cluster: config.ecs.cluster }
const dispatcher =
  config.ecs &&
  new LinkDispatcher({
    registry: new HostRegistry(doc, config.tableName),
    launcher: new EcsLauncher({ ecs: ecs!.client, ...config.ecs, logger }),
    warm: warmWorkers,
    logger,
  })

export async function handler(): Promise<{ lost: number; expired: number; stopped: number }> {
  const started = Date.now()
  const { lost, expired } = await sweepStaleLinks(store, { logger })
  const logouts = dispatcher ? await sweepLogouts({ store, requests, dispatch: (linkId) => dispatcher.launch({ linkId, mode: 'logout' }), logger }) : {}
  const { stopped } = ecs ? await stopOrphanedTasks({ ecs: ecs.client, cluster: ecs.cluster, store, logger }) : { stopped: 0 }
  const result = { lost, expired, stopped }
  logger.info({ ...result, logouts, ms: Date.now() - started }, 'sweep done')
  return result
}
