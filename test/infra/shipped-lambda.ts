/**
 * Runs a Lambda bundle directory the way AWS runs what SST deployed from it, without AWS:
 *
 * - SST (`bundle`) zips the directory as it is after writing the function's linked resources into
 *   it as `resource.enc` (AES-256-GCM, all-zero nonce, tag appended: Go's `gcm.Seal`), and gives the
 *   function `SST_RESOURCE_App`, `SST_KEY` and `SST_KEY_FILE=resource.enc` (platform/src/components/
 *   aws/function.ts and pkg/runtime in SST 4.17.1).
 * - The nodejs22.x runtime imports `<LAMBDA_TASK_ROOT>/index.mjs` in a fresh process whose working
 *   directory is the task root, and calls its `handler` export with each event.
 */
import { spawn } from 'node:child_process'
import { createCipheriv, randomBytes } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { LAMBDA_HANDLER } from '../../scripts/lambda-bundling.ts'

/** What SST 4.17.1's own bundler puts in front of every ESM bundle (found in its binary). */
export const SST_ESM_BANNER =
  "import { createRequire as topLevelCreateRequire } from 'module';const require = topLevelCreateRequire(import.meta.url);"

export type Env = Record<string, string | undefined>

/**
 * Copies a built bundle directory and packages it as SST does; returns the directory and the
 * function's env. `parent` places the copy (e.g. inside the repo, whose node_modules then stand in
 * for the runtime's own AWS SDK).
 */
export function packageLikeSst(bundleDir: string, links: Record<string, Record<string, unknown>>, parent = tmpdir()): { dir: string; env: Env } {
  mkdirSync(parent, { recursive: true })
  const dir = mkdtempSync(join(resolve(parent), 'shipped-'))
  cpSync(bundleDir, dir, { recursive: true })
  const key = randomBytes(32)
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.alloc(12, 0))
  writeFileSync(join(dir, 'resource.enc'), Buffer.concat([cipher.update(JSON.stringify(links)), cipher.final(), cipher.getAuthTag()]))
  return {
    dir,
    env: {
      SST_RESOURCE_App: JSON.stringify({ name: 'wa-link-broker', stage: 'ci' }),
      SST_KEY: key.toString('base64'),
      SST_KEY_FILE: 'resource.enc',
      LAMBDA_TASK_ROOT: dir,
    },
  }
}

/** A variant of a bundle directory with SST's banner in front, as SST's own bundler would ship it. */
export function withSstBanner(bundleDir: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sst-banner-'))
  cpSync(bundleDir, dir, { recursive: true })
  const file = join(dir, 'index.mjs')
  writeFileSync(file, `${SST_ESM_BANNER}\n${readFileSync(file, 'utf8')}`)
  return dir
}

export const filesIn = (dir: string) => readdirSync(dir).sort()

export interface Invocation {
  /** What each call returned (or threw), in order. */
  results: ({ ok: true; value: any } | { ok: false; error: string })[]
  /** The load error, if the module did not load. */
  loadError?: string
  stdout: string
  stderr: string
}

const MARK = '\u0000result\u0000'

/**
 * Imports the handler in a fresh node process (cwd = the task root) and invokes it with each event in
 * turn, as the runtime does. Asynchronous, so endpoints served by this process keep answering.
 */
export function invokeShipped(dir: string, events: unknown[], env: Env): Promise<Invocation> {
  const [file, exportName] = LAMBDA_HANDLER.split('.')
  const code = `
    const out = (o) => process.stdout.write(${JSON.stringify(MARK)} + JSON.stringify(o) + '\\n')
    let handler
    try { handler = (await import(${JSON.stringify(pathToFileURL(join(dir, `${file}.mjs`)).href)}))[${JSON.stringify(exportName)}] }
    catch (e) { out({ loadError: String(e && e.stack || e) }); process.exit(0) }
    if (typeof handler !== 'function') { out({ loadError: 'no ${exportName} export' }); process.exit(0) }
    const context = { functionName: 'shipped', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 15000 }
    for (const event of ${JSON.stringify(events)}) {
      try { out({ ok: true, value: await handler(event, context) }) } catch (e) { out({ ok: false, error: String(e && e.stack || e) }) }
    }`
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_LAMBDA_FUNCTION_NAME: 'shipped',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', () => {
      const marked = stdout.split('\n').filter((l) => l.startsWith(MARK)).map((l) => JSON.parse(l.slice(MARK.length)))
      const loadError = marked.find((m) => 'loadError' in m)?.loadError
      resolve({ results: marked.filter((m) => !('loadError' in m)), loadError, stdout: stdout.split('\n').filter((l) => !l.startsWith(MARK)).join('\n'), stderr })
    })
  })
}

/** A Lambda Function URL request (payload format 2.0), as the URL's front end sends it. */
export function functionUrlEvent(method: string, path: string, options: { headers?: Record<string, string>; body?: string; query?: string } = {}) {
  const domain = 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws'
  const now = new Date()
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: {
      host: domain,
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-forwarded-for': '203.0.113.7',
      'user-agent': 'check-infra',
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.query ? { queryStringParameters: Object.fromEntries(new URLSearchParams(options.query)) } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: domain.split('.')[0],
      domainName: domain,
      domainPrefix: domain.split('.')[0],
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'check-infra' },
      requestId: randomBytes(8).toString('hex'),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(options.body !== undefined ? { body: options.body } : {}),
    isBase64Encoded: false,
  }
}

/**
 * What `sst.aws.CronV2` delivers: EventBridge Scheduler invokes the function with the schedule's
 * `input`, which SST sets to `JSON.stringify(args.event || {})` (cron-v2.ts), i.e. `{}` here.
 */
export const CRON_V2_EVENT = {}
