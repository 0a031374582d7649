import { serve } from '@hono/node-server'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiKeyStore } from '@wa-link-broker/core/auth'
import type { ResolvedRuntimeConfig } from '@wa-link-broker/core/config'
import type { KeyProvider } from '@wa-link-broker/core/crypto'
import { LinkDispatcher, HostRegistry, HOST_STALE_MS } from '@wa-link-broker/core/hosts'
import { LocalProcessLauncher, type ExitedWorker } from '@wa-link-broker/core/launchers/local'
import type { TenantLimits } from '@wa-link-broker/core/link'
import { createLogger, type Logger } from '@wa-link-broker/core/logger'
import { settleStoppedTask } from '@wa-link-broker/core/settle'
import { createDocumentClient, ensureTable, LinkStore, LogoutRequests } from '@wa-link-broker/core/store'
import { sweepLogouts, sweepStaleLinks } from '@wa-link-broker/core/sweeper'
import { buildDeps, createApp, dispatchesToHosts, LOCAL_DEV_TENANT, startLocalWebhooks, type LocalWebhooksOptions } from '@wa-link-broker/functions'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { buildWorker } from './build.ts'

export interface LocalStackOptions {
  config: Pick<ResolvedRuntimeConfig, 'tableName' | 'region' | 'dynamodbEndpoint' | 'kmsKeyId'>
  /** Wraps credentials and webhook secrets: the workers, which read their own environment, must use the same key. */
  keys: KeyProvider
  port?: number
  host?: string
  logger?: Logger
  /** Seeded as the local dev tenant's key (the tenant /demo starts links as); a random one otherwise. */
  devApiKey?: string
  /** Extra environment for every worker, on top of this process's own. */
  workerEnv?: Record<string, string>
  maxWorkers?: number
  limits?: Partial<TenantLimits>
  /** A running simulator's control URL, for /demo's "scan with the simulator" button. */
  simulatorControlUrl?: string
  /**
   * Warm hosts kept running (restarted if they die); links go to them and, when they are full, to
   * more hosts started on demand. 0: no hosts, one worker process per link (WARM_WORKERS=0). Default 1.
   */
  warmWorkers?: number
  /** With no warm host (warmWorkers 0), still start a host for a link, which stays for the next (OVERFLOW_HOSTS=1). */
  overflowHosts?: boolean
  /**
   * Settle a worker's links as soon as its process exits (default true), as ECS's "task stopped"
   * event does in AWS. Tests turn it off to see the hosts' own peer sweep do it alone.
   */
  settleStoppedWorkers?: boolean
  /** Webhook delivery tuning (tests shorten the retry schedule). */
  webhooks?: Partial<Pick<LocalWebhooksOptions, 'schedule' | 'retryEveryMs' | 'streamIdleMs' | 'timeoutMs'>>
}

export interface LocalStack {
  url: string
  apiKey: string
  launcher: LocalProcessLauncher
  dispatcher: LinkDispatcher
  registry: HostRegistry
  warmWorkers: number
  /** Settles of stopped workers in flight (the tests wait for them). */
  settling(): Promise<void>
  stop(): Promise<void>
}

/** A warm host that dies within this long of its start is restarted only after a pause (no crash loop). */
const RESTART_BACKOFF_MS = 2000

/**
 * The API on Node with workers as child processes: what `npm start` runs, and what the end-to-end
 * tests run. DynamoDB (Local) must already be up at `config.dynamodbEndpoint`.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { config } = options
  const logger = options.logger ?? createLogger({ name: 'api' })
  const doc = createDocumentClient(config)
  await ensureTable(doc, config.tableName)
  const { key } = await new ApiKeyStore(doc, config.tableName).create(LOCAL_DEV_TENANT, options.devApiKey || undefined)

  // Workers run the same bundle the Fargate image runs, built fresh from source (about 50 ms).
  // It lives under node_modules so that its npm imports resolve as they do in the image.
  const cacheDir = fileURLToPath(new URL('../node_modules/.cache/wa-link-broker/', import.meta.url))
  mkdirSync(cacheDir, { recursive: true })
  const bundleDir = mkdtempSync(join(cacheDir, 'worker-'))
  const { file: workerBundle } = await buildWorker({ outDir: bundleDir })
  const warmWorkers = options.warmWorkers ?? 1
  const store = new LinkStore(doc, config.tableName)
  const registry = new HostRegistry(doc, config.tableName)
  const requests = new LogoutRequests(doc, config.tableName, store)
  const launcherLog = logger.child({ component: 'launcher' })
  let stopping = false
  const settles = new Set<Promise<unknown>>()
  const launcher = new LocalProcessLauncher({
    command: [process.execPath, workerBundle],
    logger: launcherLog,
    maxConcurrent: options.maxWorkers,
    env: {
      // Every worker would repeat the API's own Node-version notice from the AWS SDK.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      TABLE_NAME: config.tableName,
      AWS_REGION: config.region,
      ...(config.dynamodbEndpoint ? { DYNAMODB_ENDPOINT: config.dynamodbEndpoint } : {}),
      ...(config.kmsKeyId ? { KMS_KEY_ID: config.kmsKeyId } : {}),
      ...options.workerEnv,
    },
    onExit: (worker) => onWorkerExit(worker),
  })
  // The one dispatch path, as in AWS: warm hosts first, else one more host (here a child process).
  const dispatcher = new LinkDispatcher({ registry, launcher, warm: dispatchesToHosts(warmWorkers, options.overflowHosts ?? false), logger: launcherLog })
  let lastWarmStart = 0
  const startWarmHost = () => {
    lastWarmStart = Date.now()
    return launcher.launch({ mode: 'host' }).catch((err) => launcherLog.error({ err }, 'could not start a warm host'))
  }

  // What ECS's "task stopped" event does in AWS: settle what the worker held, at once. A warm
  // host that died is replaced first, so its links can be handed to the new one.
  function onWorkerExit(worker: ExitedWorker) {
    if (!stopping && worker.request.mode === 'host' && !worker.request.linkId) {
      const quick = Date.now() - lastWarmStart < RESTART_BACKOFF_MS
      setTimeout(() => !stopping && void startWarmHost(), quick ? RESTART_BACKOFF_MS : 0)
    }
    if (options.settleStoppedWorkers === false) return
    // While everything stops, no link is handed to another host: those left end worker_lost.
    const deps = { store, registry, requests, logger: launcherLog, patienceMs: 5000, ...(stopping ? {} : { dispatcher }) }
    const reason = worker.signal ? `killed by ${worker.signal}` : `exited with code ${worker.code}`
    const settle = settleStoppedTask({ hostId: worker.hostId, linkId: worker.request.linkId, mode: worker.request.mode, stoppedAt: new Date().toISOString(), reason }, deps)
      .catch((err) => launcherLog.error({ err, hostId: worker.hostId }, 'settling a stopped worker failed'))
      .finally(() => settles.delete(settle))
    settles.add(settle)
  }
  const app = createApp(
    buildDeps({
      config,
      logger,
      keys: options.keys,
      local: true,
      limits: options.limits,
      simulatorControlUrl: options.simulatorControlUrl,
      launcher: () => dispatcher,
    }),
  )
  const server = serve({ fetch: app.fetch, port: options.port ?? 3000, hostname: options.host ?? '127.0.0.1' })
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve())
    server.once('error', reject)
  })
  // What the Cron does in AWS: settle links whose worker died, and retry logouts, once a minute.
  const sweeper = setInterval(() => {
    sweepStaleLinks(store, { logger })
      .then(() => sweepLogouts({ store, requests, dispatch: (linkId) => dispatcher.launch({ linkId, mode: 'logout' }), logger }))
      .catch((err) => logger.warn({ err }, 'sweep failed'))
  }, 60_000)
  sweeper.unref()
  // What the stream subscriber and the retry Cron do in AWS: a stream reader and a timer.
  const webhooks = await startLocalWebhooks({ config, keys: options.keys, local: true, logger: logger.child({ component: 'webhooks' }), ...options.webhooks }).catch(
    (error) => {
      clearInterval(sweeper)
      server.close()
      rmSync(bundleDir, { recursive: true, force: true })
      throw error
    },
  )

  const stack: LocalStack = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    apiKey: key,
    launcher,
    dispatcher,
    registry,
    warmWorkers,
    settling: async () => {
      while (settles.size) await Promise.all([...settles])
    },
    async stop() {
      stopping = true
      clearInterval(sweeper)
      await launcher.stopAll()
      while (settles.size) await Promise.all([...settles])
      await webhooks.stop()
      await new Promise<void>((resolve) => {
        const http = server as Server
        http.close(() => resolve())
        // Idle keep-alive connections would hold close() open for seconds.
        http.closeAllConnections()
      })
      rmSync(bundleDir, { recursive: true, force: true })
    },
  }
  try {
    for (let i = 0; i < warmWorkers; i++) await startWarmHost()
    await waitForHosts(registry, warmWorkers)
  } catch (error) {
    await stack.stop()
    throw error
  }
  return stack
}

/** Until `count` hosts have registered and heart-beaten (each loads Baileys first), or 30 s. */
async function waitForHosts(registry: HostRegistry, count: number): Promise<void> {
  const deadline = Date.now() + 30_000
  while (count > 0) {
    const hosts = await Promise.all((await registry.list()).map((id) => registry.read(id)))
    if (hosts.filter((h) => h && h.accepting && Date.now() - h.heartbeatAt < HOST_STALE_MS).length >= count) return
    if (Date.now() > deadline) throw new Error(`the ${count} warm worker host(s) did not come up within 30 s`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
