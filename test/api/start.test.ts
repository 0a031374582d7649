import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { deriveApiKey } from '@wa-link-broker/core/auth'
import { freePort, startDynamoDbLocal } from '../../scripts/dynamodb-local.ts'
import { isAlive, waitUntil } from '../support/e2e.ts'
import { PRELOAD_PATH, startSimulator } from '../wa-sim/index.ts'

function javaPidOn(port: number): number | undefined {
  try {
    return Number(execFileSync('pgrep', ['-f', `DynamoDBLocal.jar.*-port ${port} `], { encoding: 'utf8' }).trim().split('\n')[0]) || undefined
  } catch {
    return undefined
  }
}

/** The node process running scripts/start.ts for this PORT (not the `sh -c` npm runs it under). */
function startScriptPid(port: number): number | undefined {
  try {
    return execFileSync('pgrep', ['-f', '^[^ ]*node .*scripts/start\\.ts'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number)
      .find((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`\0PORT=${port}\0`))
  } catch {
    return undefined
  }
}

/** Local addresses something listens on at this TCP port. */
function listenAddresses(port: number): string[] {
  return execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => line.trim().split(/\s+/)[3])
}

interface NpmStart {
  child: ChildProcessWithoutNullStreams
  output(): string
  exited: Promise<number | null>
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>
}

const started: NpmStart[] = []
afterEach(async () => {
  for (const run of started.splice(0)) {
    if (run.child.exitCode === null) run.child.kill('SIGTERM')
    await run.exited
  }
})

/** Exactly what a user runs: npm, which runs the script under `sh -c`. */
function npmStart(env: Record<string, string>): NpmStart {
  const child = spawn('npm', ['start', '--silent'], { env: { ...process.env, DEV_API_KEY: '', LOG_LEVEL: 'warn', ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const run: NpmStart = {
    child,
    output: () => output,
    exited,
    async waitFor(pattern, timeoutMs = 45_000) {
      await waitUntil(() => pattern.test(output) || child.exitCode !== null, timeoutMs, `npm start to print ${pattern}`)
      const match = pattern.exec(output)
      if (!match) throw new Error(`npm start exited (${child.exitCode}) without printing ${pattern}:\n${output}`)
      return match
    },
  }
  started.push(run)
  return run
}

const ports = async () => [await freePort(), await freePort()] as const

describe('npm start', () => {
  it('serves the API with a printed dev key, DynamoDB Local on 127.0.0.1 only, and SIGTERM to npm leaves no process behind', async () => {
    const [port, dynamoPort] = await ports()
    const run = npmStart({ PORT: String(port), DYNAMODB_PORT: String(dynamoPort) })
    const key = (await run.waitFor(/API key \(tenant "dev"\): (wlb_\S+)/))[1]
    expect(run.output()).toContain(`curl -s -X POST http://localhost:${port}/v1/links`)
    // The demo comes first, and works; it never shows the key.
    expect(/https?:\/\/\S+/.exec(run.output())![0]).toBe(`http://localhost:${port}/demo`)
    const demo = await fetch(`http://127.0.0.1:${port}/demo`)
    expect(demo.status).toBe(200)
    expect(await demo.text()).not.toContain(key)
    expect(run.output()).toMatch(/new on every start: set DEV_API_KEY/)
    expect(run.output()).toMatch(/in memory, gone when you stop \(set DATA_DIR=/)
    const res = await fetch(`http://127.0.0.1:${port}/v1/links`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(201)
    expect(javaPidOn(dynamoPort)).toBeDefined()
    expect(listenAddresses(dynamoPort)).toEqual([expect.stringMatching(/^(\[::ffff:)?127\.0\.0\.1\]?:\d+$/)])

    run.child.kill('SIGTERM')
    await run.exited
    await waitUntil(() => !javaPidOn(dynamoPort) && !startScriptPid(port), 10_000, 'Java and the start script to exit')
  }, 60_000)

  it('kill -9 of the start process stops DynamoDB Local and the live workers too', async () => {
    const [port, dynamoPort] = await ports()
    const sim = await startSimulator()
    try {
      const passphrase = 'correct horse battery staple'
      const run = npmStart({
        PORT: String(port),
        DYNAMODB_PORT: String(dynamoPort),
        DEV_API_KEY: passphrase,
        LOG_LEVEL: 'info',
        WA_WS_URL: sim.url,
        NODE_OPTIONS: `--import ${PRELOAD_PATH}`,
      })
      const key = (await run.waitFor(/API key \(tenant "dev"\): (wlb_\S+)/))[1]
      // The passphrase gives a well-formed key, the same on every start; the passphrase itself is no key.
      expect(key).toBe(deriveApiKey(passphrase))
      expect(run.output()).toContain('derived from DEV_API_KEY: the same on every start')
      const api = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } })
      expect((await fetch(`http://127.0.0.1:${port}/v1/links`, { headers: { authorization: `Bearer ${passphrase}` } })).status).toBe(401)
      const { link } = await (await api('/v1/links', { method: 'POST', body: '{}' })).json()
      await waitUntil(async () => (await (await api(`/v1/links/${link.id}`)).json()).status === 'awaiting_scan', 30_000, 'the worker to show a QR')
      // The warm host holding the link (npm start keeps one running).
      const workerPid = Number((await run.waitFor(/"hostId":"local-[^"]+","mode":"host","workerPid":(\d+)/))[1])
      const javaPid = javaPidOn(dynamoPort)!
      const startPid = startScriptPid(port)!
      expect([workerPid, javaPid, startPid].every(isAlive)).toBe(true)

      process.kill(startPid, 'SIGKILL')
      await waitUntil(() => !isAlive(workerPid) && !isAlive(javaPid), 15_000, 'the worker and DynamoDB Local to stop')
      await waitUntil(() => sim.openConnections() === 0, 5000, 'the worker to close its WhatsApp socket')
    } finally {
      await sim.close()
    }
  }, 90_000)

  it('writes readable log lines in a terminal (pino-pretty) and keeps request lines at debug', async () => {
    const [port, dynamoPort] = await ports()
    // `script` gives npm start a pseudo-terminal, as a developer's shell would.
    const env = { ...process.env, PORT: String(port), DYNAMODB_PORT: String(dynamoPort), DEV_API_KEY: '', LOG_LEVEL: 'info' }
    const child = spawn('script', ['-qfec', 'npm start --silent', '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    const exited = new Promise((resolve) => child.once('exit', resolve))
    try {
      await waitUntil(() => /API key \(tenant "dev"\): (wlb_\S+)/.test(output), 45_000, 'the banner')
      const key = /API key \(tenant "dev"\): (wlb_\S+)/.exec(output)![1]
      const res = await fetch(`http://127.0.0.1:${port}/v1/links`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' })
      const { link } = await res.json()
      await fetch(`http://127.0.0.1:${port}/v1/links/${link.id}`, { headers: { authorization: `Bearer ${key}` } })
      await waitUntil(() => output.includes('link created'), 10_000, 'the link created line')
      const plain = output.replace(/\x1b\[[0-9;]*m/g, '')
      expect(plain).toMatch(/INFO.*\(api\): link created/)
      expect(plain).not.toContain('"level":')
      expect(plain).not.toMatch(/: request\b/)
    } finally {
      const pid = startScriptPid(port)
      if (pid) process.kill(pid, 'SIGTERM')
      await exited
    }
    await waitUntil(() => !javaPidOn(dynamoPort) && !startScriptPid(port), 10_000, 'Java and the start script to exit')
  }, 60_000)

  it('refuses a PORT that is taken, naming it, and leaves no Java process behind', async () => {
    const [port, dynamoPort] = await ports()
    const squatter = createServer().listen(port, '127.0.0.1')
    await new Promise((resolve) => squatter.once('listening', resolve))
    try {
      const run = npmStart({ PORT: String(port), DYNAMODB_PORT: String(dynamoPort) })
      expect(await run.exited).toBe(1)
      expect(run.output()).toContain(`Port ${port} (PORT) is already in use`)
      expect(javaPidOn(dynamoPort)).toBeUndefined()
    } finally {
      squatter.close()
    }
  }, 30_000)

  it('refuses a DYNAMODB_PORT where another DynamoDB Local already answers, instead of silently using it', async () => {
    const [port] = await ports()
    const orphan = await startDynamoDbLocal()
    try {
      const run = npmStart({ PORT: String(port), DYNAMODB_PORT: String(orphan.port) })
      expect(await run.exited).toBe(1)
      expect(run.output()).toContain(`Port ${orphan.port} (DYNAMODB_PORT) is already in use`)
      expect(startScriptPid(port)).toBeUndefined()
      expect(await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => 'refused')).toBe('refused')
    } finally {
      await orphan.stop()
    }
  }, 60_000)

  it.each([
    [{ DEV_API_KEY: 'dev' }, 'Invalid configuration: DEV_API_KEY: must be at least 16 characters'],
    [{ CREATE_LIMIT_PER_MINUTE: '6O' }, 'Invalid configuration: CREATE_LIMIT_PER_MINUTE: must be a whole number'],
    [{ ACTIVE_LINK_LIMIT: '0' }, 'Invalid configuration: ACTIVE_LINK_LIMIT: must be at least 1'],
    [{ LOG_LEVEL: 'verbose' }, 'Invalid configuration: LOG_LEVEL: must be one of'],
    [{ DYNAMODB_PORT: 'eighty' }, 'Invalid configuration: DYNAMODB_PORT: must be a whole number'],
  ])('a bad %j fails at once with a message naming the variable, starting nothing', async (env, message) => {
    const [port, dynamoPort] = await ports()
    const run = npmStart({ PORT: String(port), DYNAMODB_PORT: String(dynamoPort), ...env })
    expect(await run.exited).toBe(1)
    expect(run.output()).toContain(message)
    expect(run.output()).toContain('Nothing was started')
    expect(javaPidOn(dynamoPort)).toBeUndefined()
  }, 30_000)
})
