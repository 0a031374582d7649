import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildLambda, type BuiltBundle } from '../../scripts/build.ts'

/** The deployable bundles actually run: build them as `npm run build` does and invoke them. */
describe('Lambda bundles', () => {
  let bundles: BuiltBundle[]
  beforeAll(async () => {
    bundles = await buildLambda({ outDir: mkdtempSync(join(tmpdir(), 'lambda-')) })
  }, 120_000)

  const env = {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    TABLE_NAME: 'bundle-smoke',
    LOG_LEVEL: 'silent',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    KMS_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/smoke',
    ECS_CLUSTER: 'arn:aws:ecs:us-east-1:111122223333:cluster/smoke',
    ECS_TASK_DEFINITION: 'arn:aws:ecs:us-east-1:111122223333:task-definition/smoke:1',
    ECS_SUBNETS: 'subnet-1',
    ECS_SECURITY_GROUPS: 'sg-1',
  }
  const run = (code: string) => spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8', timeout: 30_000 })

  it('api: serves /healthz, /openapi.json through the Function URL handler', () => {
    const file = pathToFileURL(bundles.find((b) => b.name === 'api')!.file).href
    const event = (method: string, path: string, body?: string) => ({
      version: '2.0', rawPath: path, rawQueryString: '', headers: { 'content-type': 'application/json', host: 'x.lambda-url.us-east-1.on.aws' },
      requestContext: { http: { method, path, sourceIp: '127.0.0.1' }, domainName: 'x.lambda-url.us-east-1.on.aws', requestId: 'r' },
      body, isBase64Encoded: false,
    })
    const r = run(`
      const { handler } = await import(${JSON.stringify(file)})
      const out = []
      for (const e of ${JSON.stringify([event('GET', '/healthz'), event('GET', '/openapi.json')])}) {
        const res = await handler(e, {})
        out.push({ status: res.statusCode, body: String(res.body).slice(0, 200) })
      }
      console.log(JSON.stringify(out))
    `)
    expect(r.stderr).toBe('')
    const [health, openapi] = JSON.parse(r.stdout)
    expect(health.status).toBe(200)
    expect(openapi.status).toBe(200)
    expect(openapi.body).toContain('"openapi":"3.1')
  })

  it('sweeper: exports handler and its module loads without a table', () => {
    const file = pathToFileURL(bundles.find((b) => b.name === 'sweeper')!.file).href
    const r = run(`const m = await import(${JSON.stringify(file)}); console.log(typeof m.handler)`)
    expect(r.stderr).toBe('')
    expect(r.stdout.trim()).toBe('function')
  })
})
