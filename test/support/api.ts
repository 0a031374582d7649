import { serve } from '@hono/node-server'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { ApiKeyStore } from '@wa-link-broker/core/auth'
import { LocalKeyProvider } from '@wa-link-broker/core/crypto'
import { LoggingLauncher, type LinkLauncher } from '@wa-link-broker/core/launcher'
import type { TenantLimits } from '@wa-link-broker/core/link'
import { createLogger, type Logger } from '@wa-link-broker/core/logger'
import { buildDeps, createApp } from '@wa-link-broker/functions'
import { createTestTable } from './store.ts'

/** Every line a logger wrote, for asserting what never reaches the logs. */
export class LogCapture extends Writable {
  readonly lines: string[] = []
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
    done()
  }
  get text() {
    return this.lines.join('\n')
  }
}

export interface TestApi {
  url: string
  tableName: string
  doc: Awaited<ReturnType<typeof createTestTable>>['doc']
  logs: LogCapture
  logger: Logger
  launcher: LinkLauncher
  newTenantKey(tenant: string): Promise<string>
  request(path: string, init?: RequestInit & { key?: string; json?: unknown }): Promise<Response>
  close(): Promise<void>
}

/** The real app over real HTTP on a random port, against its own table in DynamoDB Local. */
export async function startTestApi(options: { limits?: Partial<TenantLimits>; launcher?: (logger: Logger) => LinkLauncher; local?: boolean } = {}): Promise<TestApi> {
  const { doc, tableName, endpoint } = await createTestTable('api')
  const logs = new LogCapture()
  const logger = createLogger({ level: 'debug' }, logs)
  let launcher!: LinkLauncher
  const deps = buildDeps({
    config: { tableName, region: 'us-east-1', dynamodbEndpoint: endpoint },
    local: options.local ?? true,
    keys: new LocalKeyProvider(randomBytes(32)),
    logger,
    launcher: (log) => (launcher = (options.launcher ?? ((l) => new LoggingLauncher(l)))(log)),
    limits: { createPerMinute: 1000, ...options.limits },
  })
  const server = serve({ fetch: createApp(deps).fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const keys = new ApiKeyStore(doc, tableName)
  return {
    url,
    tableName,
    doc,
    logs,
    logger,
    launcher,
    async newTenantKey(tenant) {
      return (await keys.create(tenant)).key
    },
    request(path, init = {}) {
      const headers = new Headers(init.headers)
      if (init.key) headers.set('authorization', `Bearer ${init.key}`)
      let body = init.body
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json')
        body = JSON.stringify(init.json)
      }
      return fetch(`${url}${path}`, { ...init, headers, body })
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
