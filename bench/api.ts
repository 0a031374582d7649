/**
 * `npm run bench:api`: GET /v1/links/{id} over HTTP at 32 connections (autocannon) against
 * DynamoDB Local, and in the same run raw GetItem calls at the same concurrency: the floor the API
 * stands on. Target: API p50 ≤ 1.5 × GetItem p50.
 */
import autocannon from 'autocannon'
import { fork } from 'node:child_process'
import { GetCommand } from '@aws-sdk/lib-dynamodb'
import { ApiKeyStore } from '@wa-link-broker/core/auth'
import { createDocumentClient, ensureTable } from '@wa-link-broker/core/store'
import { freePort, startDynamoDbLocal } from '../scripts/dynamodb-local.ts'
import { percentile, printTable } from './table.ts'

const CONNECTIONS = 32
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
/** Raw and API runs alternate, so a noisy moment on this machine hits both sides alike. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const tableName = 'bench-api'

const dynamo = await startDynamoDbLocal()
const doc = createDocumentClient({ dynamodbEndpoint: dynamo.endpoint })
await ensureTable(doc, tableName)
const { key } = await new ApiKeyStore(doc, tableName).create('bench')

const port = await freePort()
const server = fork('bench/serve-api.ts', {
  execArgv: ['--import', 'tsx'],
  env: { ...process.env, PORT: String(port), TABLE_NAME: tableName, DYNAMODB_ENDPOINT: dynamo.endpoint, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
})
await new Promise((resolve) => server.once('message', resolve))
const base = `http://127.0.0.1:${port}`
const headers = { authorization: `Bearer ${key}` }
const created = await (await fetch(`${base}/v1/links`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' })).json()
const linkId: string = created.link.id

async function rawGetItem() {
  const latencies: number[] = []
  const stopAt = Date.now() + SECONDS * 1000
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < stopAt) {
        const t = performance.now()
        await doc.send(new GetCommand({ TableName: tableName, Key: { pk: `LINK#${linkId}`, sk: 'LINK' }, ConsistentRead: true }))
        latencies.push(performance.now() - t)
      }
    }),
  )
  latencies.sort((a, b) => a - b)
  return { reqPerSec: latencies.length / ((performance.now() - started) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

const url = `${base}/v1/links/${linkId}`
async function api() {
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: SECONDS })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`API answered ${result.non2xx} non-2xx and ${result.errors} errors`)
  return { reqPerSec: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 }
}

try {
  await rawGetItem() // warm-up: JIT, connections
  await autocannon({ url, headers, connections: CONNECTIONS, duration: 2 }) // warm-up: JIT and the key cache
  const rows: Record<string, string | number>[] = []
  const ratios: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const raw = await rawGetItem()
    const http = await api()
    ratios.push(http.p50 / raw.p50)
    rows.push(
      { round, measurement: 'raw GetItem (floor)', 'req/s': Math.round(raw.reqPerSec), 'p50 ms': raw.p50, 'p99 ms': raw.p99, 'p50 ratio': '' },
      { round, measurement: 'API GET /v1/links/{id}', 'req/s': Math.round(http.reqPerSec), 'p50 ms': http.p50, 'p99 ms': http.p99, 'p50 ratio': http.p50 / raw.p50 },
    )
  }
  printTable(`GET /v1/links/{id} vs raw GetItem — ${CONNECTIONS} concurrent, ${SECONDS} s each, ${ROUNDS} alternating rounds, DynamoDB Local`, rows)
  const ratio = percentile([...ratios].sort((a, b) => a - b), 50)
  console.log(`\nmedian p50 ratio API / GetItem: ${ratio.toFixed(2)} (target ≤ 1.50) ${ratio <= 1.5 ? 'MET' : 'NOT MET'}`)
} finally {
  server.kill('SIGTERM')
  await dynamo.stop()
}
