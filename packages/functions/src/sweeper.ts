import { createDocumentClient, createLogger, eraseAuthState, LinkStore, resolveRuntimeConfig, sweepStaleLinks } from '@wa-link-broker/core'

// The scheduled sweeper (sst.aws.CronV2 "Sweeper", once a minute): settles links whose worker died.
// Built once per Lambda instance; warm invocations reuse the client.
const config = resolveRuntimeConfig()
const logger = createLogger({ name: 'sweeper' })
const doc = createDocumentClient({ tableName: config.tableName, region: config.region, endpoint: config.dynamodbEndpoint })
const store = new LinkStore(doc, config.tableName)

export async function handler(): Promise<{ lost: number; expired: number }> {
  const started = Date.now()
  const result = await sweepStaleLinks(store, { logger, eraseCredentials: (linkId) => eraseAuthState(linkId, { doc, tableName: config.tableName }) })
  logger.info({ ...result, ms: Date.now() - started }, 'sweep done')
  return result
}
