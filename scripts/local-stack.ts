import { serve } from '@hono/node-server'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  ApiKeyStore,
  createDocumentClient,
  createLogger,
  ensureTable,
  LinkStore,
  LocalProcessLauncher,
  selectKeyProvider,
  sweepStaleLinks,
  type Logger,
  type ResolvedRuntimeConfig,
  type TenantLimits,
} from '@wa-link-broker/core'
import { buildDeps, createApp, LOCAL_DEV_TENANT, startLocalWebhooks, type LocalWebhooksOptions } from '@wa-link-broker/functions'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { buildWorker } from './build.ts'

export interface LocalStackOptions {
  config: Pick<ResolvedRuntimeConfig, 'tableName' | 'region' | 'dynamodbEndpoint' | 'kmsKeyId'>
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
  /** Webhook delivery tuning (tests shorten the retry schedule). */
  webhooks?: Partial<Pick<LocalWebhooksOptions, 'schedule' | 'retryEveryMs' | 'streamIdleMs' | 'timeoutMs'>>
}

export interface LocalStack {
  url: string
  apiKey: string
  launcher: LocalProcessLauncher
  stop(): Promise<void>
}

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
  let launcher!: LocalProcessLauncher
  const app = createApp(
    buildDeps({
      config,
      logger,
      local: true,
      limits: options.limits,
      simulatorControlUrl: options.simulatorControlUrl,
      launcher: (log) =>
        (launcher = new LocalProcessLauncher({
          command: [process.execPath, workerBundle],
          logger: log.child({ component: 'launcher' }),
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
        })),
    }),
  )
  const server = serve({ fetch: app.fetch, port: options.port ?? 3000, hostname: options.host ?? '127.0.0.1' })
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve())
    server.once('error', reject)
  })
  // What the Cron does in AWS: settle links whose worker died, once a minute.
  const store = new LinkStore(doc, config.tableName)
  const sweeper = setInterval(() => {
    sweepStaleLinks(store, { logger }).catch((error) =>
      logger.warn({ err: { message: (error as Error).message } }, 'sweep failed'),
    )
  }, 60_000)
  sweeper.unref()
  // What the stream subscriber and the retry Cron do in AWS: a stream reader and a timer.
  const webhooks = await startLocalWebhooks({ config, keys: selectKeyProvider(config), local: true, logger: logger.child({ component: 'webhooks' }), ...options.webhooks }).catch(
    (error) => {
      clearInterval(sweeper)
      server.close()
      rmSync(bundleDir, { recursive: true, force: true })
      throw error
    },
  )
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    apiKey: key,
    launcher,
    async stop() {
      clearInterval(sweeper)
      await launcher.stopAll()
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
}
