import { createDocumentClient, createLogger, LinkStore, sweepStaleLinks } from '@wa-link-broker/core'
import { loadSweeperConfig } from './config.ts'

// The scheduled sweeper (sst.aws.CronV2 "Sweeper", once a minute): settles links whose worker died.
// Built once per Lambda instance; warm invocations reuse the client.
const { runtime: config, logLevel } = loadSweeperConfig()
const logger = createLogger({ name: 'sweeper', level: logLevel })
const store = new LinkStore(createDocumentClient(config), config.tableName)

export async function handler(): Promise<{ lost: number; expired: number }> {
  const started = Date.now()
  const result = await sweepStaleLinks(store, { logger })
  logger.info({ ...result, ms: Date.now() - started }, 'sweep done')
  return result
}
