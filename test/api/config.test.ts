import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { DEFAULT_TENANT_LIMITS } from '@wa-link-broker/core/link'
import { loadApiConfig, loadSweeperConfig } from '@wa-link-broker/functions'

const entry = (name: string) => fileURLToPath(new URL(`../../packages/functions/src/${name}`, import.meta.url))

/** Loads a Lambda entry module the way its runtime does at a cold start, in its own process. */
function coldStart(name: string, env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `await import(${JSON.stringify(entry(name))}); console.log('loaded')`], {
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', TABLE_NAME: 'cfg-test', ECS_CLUSTER: 'c', ECS_TASK_DEFINITION: 't', LOG_LEVEL: 'silent', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', DATA_KEY: Buffer.alloc(32).toString('base64'), ...env },
    encoding: 'utf8',
    timeout: 30_000,
  })
}

describe('configuration of the API and the sweeper', () => {
  it('reads the limits once, with their defaults', () => {
    expect(loadApiConfig({ TABLE_NAME: 'links' }).limits).toEqual(DEFAULT_TENANT_LIMITS)
    expect(loadApiConfig({ CREATE_LIMIT_PER_MINUTE: '5', ACTIVE_LINK_LIMIT: '7', LOG_LEVEL: 'debug' })).toMatchObject({ limits: { createPerMinute: 5, activeLinks: 7 }, logLevel: 'debug' })
    expect(() => loadSweeperConfig({ LOG_LEVEL: 'loud' })).toThrow('Invalid configuration: LOG_LEVEL: must be one of')
  })

  it('links go to hosts with a warm floor or with OVERFLOW_HOSTS=1, otherwise each to a one-shot worker', () => {
    expect(loadApiConfig({}).warmWorkers).toBe(true)
    expect(loadApiConfig({ WARM_WORKERS: '0' }).warmWorkers).toBe(false)
    expect(loadApiConfig({ WARM_WORKERS: '0', OVERFLOW_HOSTS: '1' }).warmWorkers).toBe(true)
    expect(loadSweeperConfig({ WARM_WORKERS: '0', OVERFLOW_HOSTS: '1' }).warmWorkers).toBe(true)
    expect(loadSweeperConfig({ WARM_WORKERS: '0', OVERFLOW_HOSTS: '0' }).warmWorkers).toBe(false)
    expect(() => loadApiConfig({ OVERFLOW_HOSTS: 'yes' })).toThrow('Invalid configuration: OVERFLOW_HOSTS: must be a whole number from 0 to 1')
  })

  it('a typo in CREATE_LIMIT_PER_MINUTE fails the API Lambda at its cold start, naming the variable (not every POST with a 500)', () => {
    const ok = coldStart('lambda.ts', {})
    expect(ok.stdout).toContain('loaded')
    const bad = coldStart('lambda.ts', { CREATE_LIMIT_PER_MINUTE: '6O' })
    expect(bad.status).not.toBe(0)
    expect(bad.stderr).toContain('Invalid configuration: CREATE_LIMIT_PER_MINUTE: must be a whole number')
  })

  it('a bad value fails the sweeper Lambda at its cold start too', () => {
    const bad = coldStart('sweeper.ts', { DYNAMODB_ENDPOINT: 'localhost:8000' })
    expect(bad.status).not.toBe(0)
    expect(bad.stderr).toContain('Invalid configuration: DYNAMODB_ENDPOINT: must be a http or https URL')
  })
})
