import { ECSClient } from '@aws-sdk/client-ecs'
import { createDocumentClient, createLogger, LinkStore, stopOrphanedTasks, sweepStaleLinks } from '@wa-link-broker/core'
import { loadSweeperConfig } from './config.ts'

// The scheduled sweeper (sst.aws.CronV2 "Sweeper", once a minute): settles links whose worker died,
// and stops worker tasks that outlive their link. Built once per Lambda instance.
const { runtime: config, logLevel } = loadSweeperConfig()
const logger = createLogger({ name: 'sweeper', level: logLevel })
const store = new LinkStore(createDocumentClient(config), config.tableName)
const ecs = config.ecs && { client: new ECSClient({ region: config.region }), cluster: config.ecs.cluster }

export async function handler(): Promise<{ lost: number; expired: number; stopped: number }> {
  const started = Date.now()
  const swept = await sweepStaleLinks(store, { logger })
  const { stopped } = ecs ? await stopOrphanedTasks({ ecs: ecs.client, cluster: ecs.cluster, store, logger }) : { stopped: 0 }
  const result = { ...swept, stopped }
  logger.info({ ...result, ms: Date.now() - started }, 'sweep done')
  return result
}
