import { createDocumentClient, createLogger, LinkStore, resolveRuntimeConfig, sweepStaleLinks } from '@wa-link-broker/core'

// The scheduled sweeper (sst.aws.CronV2 "Sweeper", once a minute): settles links whose worker died.
// Built once per Lambda instance; warm invocations reuse the client.
const config = resolveRuntimeConfig()
const logger = createLogger({ name: 'sweeper' })
const store = new LinkStore(createDocumentClient(config), config.tableName)

export async function handler(): Promise<{ lost: number; expired: number }> {
  const started = Date.now()
  const result = await sweepStaleLinks(store, { logger })
  logger.info({ ...result, ms: Date.now() - started }, 'sweep done')
  return result
}
