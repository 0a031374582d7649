/**
 * The worker process: a Host of link sessions. `WORKER_MODE=host` runs many links at once and stays
 * (the warm floor) or exits when idle (a host started for a waiting link); `link` and `logout` run
 * the one link named by LINK_ID and exit. A Fargate task in AWS, a child process locally.
 */
import { useDynamoDBAuthState } from '@wa-link-broker/core/auth-state/baileys'
import { selectKeyProvider } from '@wa-link-broker/core/crypto'
import { LinkDispatcher, HostRegistry } from '@wa-link-broker/core/hosts'
import { createLogger } from '@wa-link-broker/core/logger'
import { createDocumentClient, LinkStore, LogoutRequests } from '@wa-link-broker/core/store'
import { loadWorkerConfig, type WorkerConfig } from './config.ts'
import { Host } from './host.ts'
import { resolveHostId } from './host-id.ts'
import { Reachability } from './reachability.ts'
import { baileysSockets, loadBaileys } from './socket.ts'
import { trackKeyWrites } from './tracked-auth.ts'
import { createWaVersionResolver } from './wa-version.ts'

async function main(): Promise<number> {
  let config: WorkerConfig
  try {
    config = loadWorkerConfig(process.env)
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`)
    return 1
  }
  // Baileys is loaded once per process; a host loads it now, so no link waits for it.
  const baileys = loadBaileys()
  const { settings, runtime, keySource } = config
  const hostId = await resolveHostId(settings.hostId, { ECS_CONTAINER_METADATA_URI_V4: settings.ecsMetadataUri })
  const logger = createLogger({ name: 'worker', level: settings.logLevel, base: { hostId, mode: settings.mode } })
  const doc = createDocumentClient(runtime)
  const keys = selectKeyProvider(runtime, keySource)
  const store = new LinkStore(doc, runtime.tableName)
  const registry = new HostRegistry(doc, runtime.tableName)
  // One per process, cached: resolved now, while the host registers (a failure is reported when a socket needs it).
  const waVersion = createWaVersionResolver({ pinned: settings.waVersion, sourceUrl: settings.waVersionUrl, logger })
  waVersion.resolve().catch(() => undefined)
  const host = new Host({
    hostId,
    settings,
    registry,
    dispatcher: new LinkDispatcher({ registry, warm: true, logger }),
    logger,
    sessions: {
      store,
      requests: new LogoutRequests(doc, runtime.tableName, store),
      openAuthState: async (linkId, { fresh } = {}) => trackKeyWrites(await useDynamoDBAuthState(linkId, { doc, tableName: runtime.tableName, keys, fresh })),
      openSocket: baileysSockets(settings),
      settings,
      reachability: new Reachability(logger, settings.waWebSocketUrl),
      waVersion,
    },
  })

  // One session's failure never ends another's: whatever escapes a session is logged, not fatal.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection (contained)'))
  process.on('uncaughtException', (err) => logger.error({ err }, 'uncaught exception (contained)'))
  let signalled = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return
    signalled = true
    logger.info({ signal }, 'stopping')
    void host.drain()
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)

  // A warm host offers itself only once loaded; a one-shot or overflow worker claims its link meanwhile.
  if (settings.mode === 'host' && !settings.linkId) await baileys
  await host.start()
  await host.done
  logger.info({ maxRssKb: process.resourceUsage().maxRSS }, 'worker done')
  return 0
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`worker failed: ${(error as Error).stack ?? error}\n`)
    process.exit(1)
  },
)
