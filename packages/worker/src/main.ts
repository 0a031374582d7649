/**
 * The worker process: runs the one link named by LINK_ID (WORKER_MODE=link, the default) or logs
 * its device out (WORKER_MODE=logout), then exits. A Fargate task in AWS, a child process locally.
 */
import { createDocumentClient, createLogger, LinkStore, resolveRuntimeConfig, selectKeyProvider, useDynamoDBAuthState } from '@wa-link-broker/core'
import { settingsFromEnv } from './config.ts'
import { LinkSession } from './link-session.ts'
import { runLogout } from './logout-session.ts'
import { loadBaileys } from './socket.ts'
import { trackKeyWrites } from './tracked-auth.ts'
import { createWaVersionResolver } from './wa-version.ts'

// Start loading Baileys now; the link's claim in DynamoDB runs meanwhile.
void loadBaileys()
const settings = settingsFromEnv(process.env)
const config = resolveRuntimeConfig()
const logger = createLogger({ name: 'worker', base: { linkId: settings.linkId, mode: settings.mode } })
const doc = createDocumentClient(config)
const keys = selectKeyProvider(config)
const waVersion = createWaVersionResolver({ pinned: settings.waVersion, sourceUrl: settings.waVersionUrl, logger })
// Resolved while the claim runs; a failure is reported when a socket needs the version.
waVersion.resolve().catch(() => undefined)
const deps = {
  store: new LinkStore(doc, config.tableName),
  openAuthState: async (linkId: string) => trackKeyWrites(await useDynamoDBAuthState(linkId, { doc, tableName: config.tableName, keys })),
  logger,
  settings,
  waVersion,
}

async function main(): Promise<number> {
  if (settings.mode === 'logout') {
    await runLogout(deps)
    return 0
  }
  const session = new LinkSession(deps)
  let signalled = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return
    signalled = true
    logger.info({ signal }, 'stopping')
    void session.stop()
  }
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
  const outcome = await session.run()
  logger.info({ status: outcome.status, note: outcome.note, maxRssKb: process.resourceUsage().maxRSS }, 'worker done')
  return 0
}

main().then(
  (code) => process.exit(code),
  (error) => {
    logger.fatal({ err: { name: (error as Error).name, message: (error as Error).message, stack: (error as Error).stack } }, 'worker failed')
    process.exit(1)
  },
)
