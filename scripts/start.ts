/**
 * `npm start`: DynamoDB Local + the API on http://localhost:3000 + the local worker launcher.
 * Ctrl-C / SIGTERM stops everything it started.
 */
import { serve } from '@hono/node-server'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { ApiKeyStore, configFromEnv, createDocumentClient, createLogger, ensureTable, LoggingLauncher } from '@wa-link-broker/core'
import { buildDeps, createApp } from '@wa-link-broker/functions'
import { startDynamoDbLocal } from './dynamodb-local.ts'

const logger = createLogger({ name: 'start' })
const port = Number(process.env.PORT ?? 3000)
const dynamoPort = Number(process.env.DYNAMODB_PORT ?? 8000)
const dataDir = process.env.DATA_DIR ? resolve(process.env.DATA_DIR) : undefined

async function main() {
  if (dataDir) mkdirSync(dataDir, { recursive: true })
  const dynamo = await startDynamoDbLocal({ port: dynamoPort, path: dataDir })
  const cleanups: (() => Promise<void> | void)[] = [() => dynamo.stop()]
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping')
    for (const cleanup of cleanups.reverse()) await cleanup()
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))

  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint
  const config = configFromEnv()
  const doc = createDocumentClient({ tableName: config.tableName, region: config.region, endpoint: dynamo.endpoint })
  await ensureTable(doc, config.tableName)

  const { key } = await new ApiKeyStore(doc, config.tableName).create('dev', process.env.DEV_API_KEY || undefined)
  const app = createApp(buildDeps({ config, launcher: (log) => new LoggingLauncher(log) }))
  const server = serve({ fetch: app.fetch, port, hostname: process.env.HOST ?? '127.0.0.1' })
  cleanups.push(() => new Promise<void>((done) => server.close(() => done())))

  // Printed to the terminal on purpose, once: this is the developer's own local dev key.
  process.stdout.write(
    [
      '',
      `wa-link-broker is running on http://localhost:${port}  (DynamoDB Local on ${dynamo.endpoint}${dataDir ? `, data in ${dataDir}` : ', in memory'})`,
      `  API key (tenant "dev"): ${key}`,
      `  Docs:                   http://localhost:${port}/docs`,
      '',
      '  Try:',
      `  curl -s -X POST http://localhost:${port}/v1/links -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" -d '{"method":"qr"}'`,
      '',
    ].join('\n') + '\n',
  )
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).message}\n`)
  process.exit(1)
})
