import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Webhook } from 'standardwebhooks'
import { createDocumentClient, LinkStore } from '@wa-link-broker/core/store'
import { assertPortFree, freePort, startDynamoDbLocal } from '../../scripts/dynamodb-local.ts'
import { PRELOAD_PATH, startSimulator, type WaSimulator } from '../wa-sim/index.ts'
import { isAlive, waitUntil } from '../support/e2e.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts'

/**
 * `npm start` with DATA_DIR, killed with SIGKILL while webhook events are pending, then started
 * again: every event is delivered, in order, including one for a change written while it was down.
 */

const ROOT = resolve(import.meta.dirname, '../..')
const DEV_KEY = `wlb_0123456789abcdef_${'A'.repeat(43)}`
let sim: WaSimulator | undefined
let receiver: WebhookReceiver | undefined
let service: ChildProcess | undefined
const dataDir = mkdtempSync(join(tmpdir(), 'wlb-restart-'))

afterAll(async () => {
  if (service && service.exitCode === null && service.signalCode === null) {
    service.kill('SIGTERM')
    await new Promise((r) => service!.once('exit', r))
  }
  await receiver?.close()
  await sim?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

/** Whether nothing listens on the port any more (DynamoDB Local of a killed npm start is gone). */
const portFree = (port: number) => assertPortFree(port).then(() => true, () => false)

async function startService(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  // What `npm start` runs (npm only wraps it in `sh -c`): the process that SIGKILL hits.
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  await waitUntil(() => output.includes('API key (tenant "dev")') || child.exitCode !== null, 60_000, 'npm start to come up')
  if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`)
  return child
}

describe('webhooks across a crash of npm start', () => {
  it('SIGKILL while events are pending, start again: nothing is lost', async () => {
    sim = await startSimulator()
    receiver = await startWebhookReceiver()
    receiver.answer = () => 500
    const [port, dynamoPort] = [await freePort(), await freePort()]
    const env = {
      ...process.env,
      PORT: String(port),
      DYNAMODB_PORT: String(dynamoPort),
      DATA_DIR: dataDir,
      DEV_API_KEY: DEV_KEY,
      DATA_KEY: Buffer.alloc(32, 0x33).toString('base64'),
      WA_WS_URL: sim.url,
      WA_QR_TIMEOUT_MS: '1500',
      // Retries every half second rather than over a day; the order and the waiting are the same.
      WEBHOOK_RETRY_SCHEDULE_MS: '0,500,500,500,500,500,500,500,500,500,500,500,500,500,500,500,500,500,500,500',
      NODE_OPTIONS: `--import ${PRELOAD_PATH}`,
      LOG_LEVEL: 'warn',
    }
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers: { authorization: `Bearer ${DEV_KEY}`, 'content-type': 'application/json', ...init.headers } })
    const eventsOf = async (id: string) => ((await (await api(`/v1/links/${id}/events`)).json()) as { events: { id: string; type: string; state: string; attempts: number }[] }).events

    service = await startService(env)
    const { secret } = (await (await api('/v1/webhook-secret')).json()) as { secret: string }
    const created = await api('/v1/links', { method: 'POST', body: JSON.stringify({ webhookUrl: `${receiver.origin}/restart` }) })
    expect(created.status).toBe(201)
    const { id } = ((await created.json()) as { link: { id: string } }).link

    // The first event fails and waits for its retry; the scan's events queue up behind it.
    await waitUntil(async () => ((await eventsOf(id))[0]?.attempts ?? 0) >= 1, 20_000, 'a failed first attempt')
    const link = (await (await api(`/v1/links/${id}`)).json()) as { qr: { value: string } }
    await sim.scan(link.qr.value)
    await waitUntil(async () => (await eventsOf(id)).some((e) => e.type === 'link.linked'), 20_000, 'link.linked recorded')
    const before = await eventsOf(id)
    expect(before.every((e) => e.state === 'pending')).toBe(true)
    expect(before.map((e) => e.type).slice(-2)).toEqual(['link.pairing', 'link.linked'])

    service.kill('SIGKILL')
    await new Promise((r) => service!.once('exit', r))
    // npm start's DynamoDB Local dies with it (its guardian stops it even after SIGKILL).
    await waitUntil(() => portFree(dynamoPort), 15_000, 'DynamoDB Local of the killed npm start to be gone')

    // While the service is down, another writer changes the link: its event must come too.
    const dynamo = await startDynamoDbLocal({ port: dynamoPort, path: dataDir })
    try {
      const store = new LinkStore(createDocumentClient({ dynamodbEndpoint: dynamo.endpoint }), 'wa-link-broker')
      await store.update(id, { from: ['linked'], to: 'unlinked', patch: { error: null } })
    } finally {
      await dynamo.stop()
    }

    receiver.answer = () => 200
    service = await startService(env)
    expect(((await (await api('/v1/webhook-secret')).json()) as { secret: string }).secret).toBe(secret)
    let last: unknown
    await waitUntil(async () => {
      const events = await eventsOf(id)
      last = events
      return events.at(-1)?.type === 'link.unlinked' && events.every((e) => e.state === 'delivered')
      // A link whose queue the killed process held waits for that lease to run out (30 s at most).
    }, 60_000, 'every event delivered after the restart').catch((error) => {
      throw new Error(`${(error as Error).message}: ${JSON.stringify(last)}`)
    })

    const after = await eventsOf(id)
    expect(after.slice(0, before.length).map((e) => e.id)).toEqual(before.map((e) => e.id))
    const delivered = receiver.forLink(id).filter((h) => h.status === 200)
    expect(delivered.map((h) => h.id)).toEqual(after.map((e) => e.id))
    expect(delivered.map((h) => h.json.type)).toEqual(after.map((e) => e.type))
    for (const hook of delivered) expect(new Webhook(secret).verify(hook.body, hook.headers)).toEqual(hook.json)

    service.kill('SIGTERM')
    await new Promise((r) => service!.once('exit', r))
    await waitUntil(() => portFree(dynamoPort), 15_000, 'DynamoDB Local stopped')
    expect(isAlive(service.pid!)).toBe(false)
  }, 180_000)
})
