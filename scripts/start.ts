/**
 * `npm start`: DynamoDB Local + the API on http://localhost:3000 + workers as child processes.
 *
 * Whatever way this process ends, what it started stops: Ctrl-C, SIGTERM, SIGHUP, its parent going
 * away, a failed start and a crash run the cleanups; SIGKILL cannot be caught, so DynamoDB Local
 * and the workers are also registered with dieWithParent, whose guardian stops them then.
 */
import { mkdirSync } from 'node:fs'
import pretty from 'pino-pretty'
import { ConfigError, resolveRuntimeConfig } from '@wa-link-broker/core/config'
import { selectKeyProvider } from '@wa-link-broker/core/crypto'
import { createLogger, type Logger } from '@wa-link-broker/core/logger'
import { PortInUseError, assertPortFree, startDynamoDbLocal } from './dynamodb-local.ts'
import { startLocalStack } from './local-stack.ts'
import { loadStartConfig, type StartConfig } from './start-config.ts'

let config: StartConfig
try {
  config = loadStartConfig(process.env)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  process.stderr.write(`${error.message}\nNothing was started. Fix the variable and run npm start again.\n`)
  process.exit(1)
}

// Readable lines in a terminal; JSON otherwise (CI, log shippers and the tests parse it).
const destination = process.stdout.isTTY ? pretty({ colorize: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss' }) : undefined
const logger = createLogger({ name: 'start', level: config.LOG_LEVEL }, destination)

const cleanups: (() => Promise<void>)[] = []
let stopping: Promise<void> | undefined

/** Runs every cleanup once, newest first, then exits. Every exit path goes through here. */
function stop(reason: string, code: number): Promise<void> {
  stopping ??= (async () => {
    logger.info({ reason }, 'stopping')
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => logger.error({ err }, 'cleanup failed'))
    process.exit(code)
  })()
  return stopping
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal, 0))
process.on('uncaughtException', (err) => {
  logger.fatal({ err }, 'crashed')
  void stop('crash', 1)
})
process.on('unhandledRejection', (err) => {
  logger.fatal({ err }, 'crashed')
  void stop('crash', 1)
})
// `npm start` runs this under `sh -c`, which does not pass npm's SIGTERM on: when the process
// that started us goes away, stop too.
const parent = process.ppid
setInterval(() => process.ppid !== parent && void stop('parent exited', 0), 500).unref()

/** A port someone else holds is refused up front, naming the variable that chose it. */
async function claimPort(port: number, host: string, variable: string): Promise<void> {
  try {
    await assertPortFree(port, host)
  } catch (error) {
    if (!(error instanceof PortInUseError)) throw error
    throw new StartError(
      `Port ${port} (${variable}) is already in use: another program listens there (see \`ss -ltnp 'sport = :${port}'\` or \`lsof -i :${port}\`).\n` +
        `Stop it, or choose another port: ${variable}=${port + 1} npm start`,
    )
  }
}

class StartError extends Error {}

async function main(log: Logger) {
  await claimPort(config.PORT, config.HOST, 'PORT')
  await claimPort(config.DYNAMODB_PORT, '127.0.0.1', 'DYNAMODB_PORT')
  if (config.DATA_DIR) mkdirSync(config.DATA_DIR, { recursive: true })
  const dynamo = await startDynamoDbLocal({ port: config.DYNAMODB_PORT, path: config.DATA_DIR })
  cleanups.push(() => dynamo.stop())
  if (!dynamo.loopbackOnly) log.warn('no Java compiler (javac) found: DynamoDB Local listens on every network interface. Install a JDK (e.g. openjdk-17-jdk-headless) to keep it on 127.0.0.1.')

  const runtime = resolveRuntimeConfig(config)
  const stack = await startLocalStack({
    config: { ...runtime, dynamodbEndpoint: dynamo.endpoint },
    keys: selectKeyProvider(runtime, config),
    port: config.PORT,
    host: config.HOST,
    devApiKey: config.DEV_API_KEY,
    simulatorControlUrl: config.SIM_CONTROL_URL,
    limits: { createPerMinute: config.CREATE_LIMIT_PER_MINUTE, activeLinks: config.ACTIVE_LINK_LIMIT },
    warmWorkers: config.WARM_WORKERS,
    overflowHosts: config.OVERFLOW_HOSTS === 1,
    webhooks: { schedule: config.WEBHOOK_RETRY_SCHEDULE_MS },
    logger: createLogger({ name: 'api', level: config.LOG_LEVEL }, destination),
  })
  cleanups.push(() => stack.stop())

  const url = `http://localhost:${config.PORT}`
  const keyNote = config.DEV_API_KEY
    ? config.devApiKeyDerived
      ? '(derived from DEV_API_KEY: the same on every start)'
      : '(DEV_API_KEY)'
    : '(new on every start: set DEV_API_KEY to any passphrase of 16+ characters to keep one)'
  // Printed to the terminal on purpose, once: this is the developer's own local dev key.
  process.stdout.write(
    [
      '',
      'wa-link-broker is running. Start here:',
      '',
      `  Demo:                   ${url}/demo   (start a link and watch its hosted page)`,
      '',
      `  API:                    ${url}`,
      `  API key (tenant "dev"): ${stack.apiKey}`,
      `                          ${keyNote}`,
      `  Data:                   ${config.DATA_DIR ? `kept in ${config.DATA_DIR}` : 'in memory, gone when you stop (set DATA_DIR=.data/dynamodb to keep links and keys)'}`,
      `  DynamoDB Local:         ${dynamo.endpoint}`,
      `  Docs:                   ${url}/docs`,
      `  Workers connect to:     ${config.WA_WS_URL ?? "WhatsApp (Baileys' default URL)"}`,
      `  Workers:                ${config.WARM_WORKERS ? `${config.WARM_WORKERS} warm host(s) kept running, more started when they are full (WARM_WORKERS)` : config.OVERFLOW_HOSTS ? 'no warm host: one started for a link when none has room, kept 5 minutes (WARM_WORKERS=0, OVERFLOW_HOSTS=1)' : 'one process per link (WARM_WORKERS=0)'}`,
      '',
      '  Try:',
      `  curl -s -X POST ${url}/v1/links -H "Authorization: Bearer ${stack.apiKey}" -H "Content-Type: application/json" -d '{"method":"qr"}'`,
      '',
    ].join('\n') + '\n',
  )
}

main(logger).catch((error) => {
  process.stderr.write(`npm start failed: ${error instanceof StartError ? error.message : (error as Error).stack}\n`)
  return stop('start failed', 1)
})
