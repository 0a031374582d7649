/**
 * `npm run bench:webhooks`: a link's status change written to the table → its webhook received by
 * a local receiver, through the real pipeline of `npm start` (stream reader → event recorded →
 * dispatcher → signed HTTP POST), 200 events. The floor, in the same run: a bare DynamoDB write →
 * its stream record seen by a reader that polls GetRecords without pausing.
 * Target: webhook p50 ≤ 1.5 × floor p50 + 50 ms.
 *
 * Then what the reader's polling cadence costs: for several idle waits, write → seen p50 and the
 * CPU DynamoDB Local spends answering the idle polls.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, ListStreamsCommand } from '@aws-sdk/client-dynamodb-streams'
import { PutCommand } from '@aws-sdk/lib-dynamodb'
import { LocalKeyProvider } from '@wa-link-broker/core/crypto'
import { newLinkId, type Link } from '@wa-link-broker/core/link'
import { createLogger } from '@wa-link-broker/core/logger'
import { createDocumentClient, ensureTable, LinkStore } from '@wa-link-broker/core/store'
import { createStreamsClient, DEFAULT_STREAM_IDLE_MS, DynamoDBStreamReader } from '@wa-link-broker/core/webhooks/stream-reader'
import { startLocalWebhooks } from '@wa-link-broker/functions'
import { startDynamoDbLocal } from '../scripts/dynamodb-local.ts'
import { percentile, printTable } from './table.ts'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200)
/** Floor and webhook runs alternate, so a noisy moment on this machine hits both sides alike. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4)
const PER_ROUND = Math.ceil(EVENTS / ROUNDS)
const CADENCES = [0, 10, DEFAULT_STREAM_IDLE_MS, 50, 100]
const tableName = 'bench-webhooks'
/**
 * Changes come at random moments, not right after the last one was seen (when the reader, busy
 * with the records that change made, would be polling without pause): each sample waits a random
 * 100-200 ms first, so it lands anywhere in the reader's idle wait.
 */
const pause = () => new Promise((r) => setTimeout(r, 100 + Math.random() * 100))
const silent = createLogger({ level: 'silent' })

const dynamo = await startDynamoDbLocal()
const config = { tableName, region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint }
const doc = createDocumentClient(config)
const streams = createStreamsClient(config)
await ensureTable(doc, tableName)
const store = new LinkStore(doc, tableName)
const javaPid = Number(execFileSync('pgrep', ['-f', `DynamoDBLocal.jar.*-port ${dynamo.port}`], { encoding: 'utf8' }).trim().split('\n')[0])

// ---- A receiver on 127.0.0.1: resolves the waiter for `<linkId>#<type>` when that webhook arrives.
const waiters = new Map<string, (at: number) => void>()
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const at = performance.now()
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    res.writeHead(200).end()
    waiters.get(`${body.data.link.id}#${body.type}`)?.(at)
  })
})
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()))
const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
const arrival = (key: string) => new Promise<number>((resolve) => waiters.set(key, resolve))

// ---- Readers for the floor: `seen(pk)` resolves when a record of that item comes through.
const seenWaiters = new Map<string, (at: number) => void>()
const seen = (pk: string) => new Promise<number>((resolve) => seenWaiters.set(pk, resolve))
const notice = (pk: unknown) => seenWaiters.get(String(pk))?.(performance.now())

/** Polls GetRecords on every open shard with no pause at all: the least any reader can add. */
async function bareReader(): Promise<() => Promise<void>> {
  const { Streams } = await streams.send(new ListStreamsCommand({ TableName: tableName }))
  const arn = Streams![0].StreamArn!
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: arn }))
  const open = StreamDescription!.Shards!.filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber)
  const iterators = await Promise.all(
    open.map(async (s) => (await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: s.ShardId!, ShardIteratorType: 'LATEST' }))).ShardIterator!),
  )
  let stopped = false
  const loops = iterators.map(async (iterator) => {
    while (!stopped && iterator) {
      const res = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }))
      for (const r of res.Records ?? []) notice(r.dynamodb?.Keys?.pk?.S)
      iterator = res.NextShardIterator!
    }
  })
  return async () => {
    stopped = true
    await Promise.all(loops)
  }
}

/** The product's own reader at a given idle wait, handing records over like npm start does. */
async function productReader(idleMs: number): Promise<() => Promise<void>> {
  const reader = new DynamoDBStreamReader({
    streams, doc, tableName, logger: silent, idleMs,
    onChanges: async (changes) => changes.forEach((c) => notice(c.keys.pk)),
  })
  await reader.start()
  return () => reader.stop()
}

/** Bare writes, each timed until its record is seen. */
async function floorRound(n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    await pause()
    const pk = `FLOOR#${randomBytes(6).toString('hex')}`
    const wait = seen(pk)
    const t0 = performance.now()
    await doc.send(new PutCommand({ TableName: tableName, Item: { pk, sk: 'FLOOR', n: i } }))
    out.push((await wait) - t0)
  }
  return out
}

/** Links with a webhook URL, already `starting` (no event yet). */
async function newLinks(n: number): Promise<Link[]> {
  const links: Link[] = []
  for (let i = 0; i < n; i++) {
    const now = new Date()
    const link: Link = {
      id: newLinkId(), tenantId: 'bench', status: 'pending', method: 'qr', phoneNumber: null, qr: null, pairingCode: null, account: null, error: null,
      metadata: {}, webhookUrl, createdAt: now.toISOString(), updatedAt: now.toISOString(), expiresAt: new Date(now.getTime() + 3600_000).toISOString(),
      version: 1, leaseToken: 0, heartbeatAt: null, clientTokenHashes: [],
    }
    await store.create(link)
    links.push(await store.claim(link.id, ['pending'], 'starting'))
  }
  return links
}

/** The status change a worker makes when the first QR arrives, timed until its webhook arrives. */
async function webhookRound(links: Link[]): Promise<number[]> {
  const out: number[] = []
  for (const link of links) {
    await pause()
    const got = arrival(`${link.id}#link.awaiting_scan`)
    const qr = { value: `https://wa.me/settings/linked_devices#${randomBytes(8).toString('hex')}`, sequence: 1, expiresAt: new Date(Date.now() + 60_000).toISOString() }
    const t0 = performance.now()
    await store.update(link.id, { from: ['starting'], to: 'awaiting_scan', fence: link.leaseToken, patch: { qr } })
    out.push((await got) - t0)
  }
  return out
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100 // utime + stime, in clock ticks of 10 ms
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return { p50: percentile(s, 50), p95: percentile(s, 95) }
}

try {
  const floor: number[] = []
  const hooks: number[] = []
  const keys = new LocalKeyProvider(randomBytes(32))
  // Warm-up: JIT, connections, the tenant's secret and its data key.
  {
    const stop = await bareReader()
    await floorRound(10)
    await stop()
    const pipeline = await startLocalWebhooks({ config, keys, local: true, logger: silent })
    await webhookRound(await newLinks(10))
    await pipeline.stop()
  }
  for (let round = 0; round < ROUNDS; round++) {
    const stop = await bareReader()
    floor.push(...(await floorRound(PER_ROUND)))
    await stop()
    const links = await newLinks(PER_ROUND)
    const pipeline = await startLocalWebhooks({ config, keys, local: true, logger: silent })
    await new Promise((r) => setTimeout(r, 300)) // let the reader pass the links' creation records
    hooks.push(...(await webhookRound(links)))
    await pipeline.stop()
  }
  const f = stats(floor)
  const h = stats(hooks)
  const target = 1.5 * f.p50 + 50
  printTable(`Status change written → webhook received (${hooks.length}) vs write → stream record seen (${floor.length}), ${ROUNDS} alternating rounds, DynamoDB Local`, [
    { measurement: 'floor: PutItem → record seen (GetRecords without pause)', n: floor.length, 'p50 ms': f.p50, 'p95 ms': f.p95, 'p50 ratio': 1 },
    { measurement: `webhook: update → POST received (reader idle ${DEFAULT_STREAM_IDLE_MS} ms)`, n: hooks.length, 'p50 ms': h.p50, 'p95 ms': h.p95, 'p50 ratio': h.p50 / f.p50 },
  ])
  console.log(`\nwebhook p50 ${h.p50.toFixed(1)} ms; target ≤ 1.5 × ${f.p50.toFixed(1)} + 50 = ${target.toFixed(1)} ms: ${h.p50 <= target ? 'MET' : 'NOT MET'}`)

  // ---- What the cadence costs: latency it adds, and DynamoDB Local's CPU while nothing happens.
  const rows: Record<string, string | number>[] = []
  for (const idle of CADENCES) {
    const stop = idle === 0 ? await bareReader() : await productReader(idle)
    const lat = stats(await floorRound(40))
    await new Promise((r) => setTimeout(r, 500))
    const cpu0 = cpuSeconds(javaPid)
    const wall0 = performance.now()
    await new Promise((r) => setTimeout(r, 3000))
    const cpu = (cpuSeconds(javaPid) - cpu0) / ((performance.now() - wall0) / 1000)
    await stop()
    rows.push({ 'idle wait ms': idle === 0 ? '0 (no pause)' : idle, 'write → seen p50 ms': lat.p50, 'p95 ms': lat.p95, 'DynamoDB Local CPU while idle': `${(cpu * 100).toFixed(0)} % of a core` })
  }
  {
    const cpu0 = cpuSeconds(javaPid)
    await new Promise((r) => setTimeout(r, 3000))
    rows.push({ 'idle wait ms': 'no reader', 'write → seen p50 ms': '', 'p95 ms': '', 'DynamoDB Local CPU while idle': `${(((cpuSeconds(javaPid) - cpu0) / 3) * 100).toFixed(0)} % of a core` })
  }
  printTable('The stream reader’s polling cadence: what it adds and what it costs (one shard)', rows)
} finally {
  receiver.close()
  await dynamo.stop()
}
