/**
 * `npm start`: DynamoDB Local + the API on http://localhost:3000 + workers as child processes.
 * Ctrl-C / SIGTERM stops everything it started.
 */
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { createLogger, parseRetrySchedule, resolveRuntimeConfig } from '@wa-link-broker/core'
import { startDynamoDbLocal } from './dynamodb-local.ts'
import { startLocalStack } from './local-stack.ts'

const logger = createLogger({ name: 'start' })
const port = Number(process.env.PORT ?? 3000)
const dynamoPort = Number(process.env.DYNAMODB_PORT ?? 8000)
const dataDir = process.env.DATA_DIR ? resolve(process.env.DATA_DIR) : undefined
const webhookSchedule = process.env.WEBHOOK_RETRY_SCHEDULE_MS ? parseRetrySchedule(process.env.WEBHOOK_RETRY_SCHEDULE_MS) : undefined

async function main() {
  if (dataDir) mkdirSync(dataDir, { recursive: true })
  const dynamo = await startDynamoDbLocal({ port: dynamoPort, path: dataDir })
  const cleanups: (() => Promise<void>)[] = [() => dynamo.stop()]
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping')
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => logger.error({ err: { message: (error as Error).message } }, 'cleanup failed'))
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
  // `npm start` runs this under `sh -c`, which does not pass npm's SIGTERM on: when the process
  // that started us goes away, stop too, so no Java or worker process is left orphaned.
  const parent = process.ppid
  setInterval(() => process.ppid !== parent && void stop('parent exited'), 500).unref()

  const config = { ...resolveRuntimeConfig(), dynamodbEndpoint: dynamo.endpoint }
  const stack = await startLocalStack({
    config,
    port,
    host: process.env.HOST,
    devApiKey: process.env.DEV_API_KEY,
    simulatorControlUrl: process.env.SIM_CONTROL_URL || undefined,
    logger: createLogger({ name: 'api' }),
  })
  cleanups.push(() => stack.stop())

  // Printed to the terminal on purpose, once: this is the developer's own local dev key.
  process.stdout.write(
    [
      '',
      'wa-link-broker is running. Start here:',
      '',
      `  Demo:                   http://localhost:${port}/demo   (start a link and watch its hosted page)`,
      '',
      `  API:                    http://localhost:${port}  (DynamoDB Local on ${dynamo.endpoint}${dataDir ? `, data in ${dataDir}` : ', in memory'})`,
      `  API key (tenant "dev"): ${stack.apiKey}`,
      `  Docs:                   http://localhost:${port}/docs`,
      `  Workers connect to:     ${process.env.WA_WS_URL ?? "WhatsApp (Baileys' default URL)"}`,
      '',
      '  Try:',
      `  curl -s -X POST http://localhost:${port}/v1/links -H "Authorization: Bearer ${stack.apiKey}" -H "Content-Type: application/json" -d '{"method":"qr"}'`,
      '',
    ].join('\n') + '\n',
  )
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).message}\n`)
  process.exit(1)
})
