import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { checkSstShape, evaluateSstConfig, PLATFORM_TYPES, readConfigSource, typecheckSstConfig } from './sst-shape.ts'

const source = readConfigSource()

/** Applies one edit and insists it applied, so a broken variant can never silently equal the real one. */
function broken(edit: (s: string) => string): string {
  const out = edit(source)
  if (out === source) throw new Error('the edit did not change sst.config.ts; update this test')
  return out
}

describe('sst.config.ts shape (recording stand-ins, no AWS)', () => {
  it('matches core’s table, the repo’s files and the linking rules', async () => {
    const ev = await evaluateSstConfig(source)
    expect(checkSstShape(ev, source)).toEqual([])
  })

  const cases: [string, (s: string) => string, RegExp][] = [
    ['TTL attribute changed', (s) => s.replace('ttl: tableDefinition.ttlAttribute', "ttl: 'expiresAt'"), /table ttl "expiresAt" != core "ttl"/],
    ['the task link removed from the function', (s) => s.replace('link: [table, worker, dataKey]', 'link: [table, dataKey]'), /function must link the task/],
    ['wrong handler export for the sweeper', (s) => s.replace('packages/functions/src/sweeper.handler', 'packages/functions/src/sweeper.main'), /does not export "main"/],
    ['a GSI dropped', (s) => s.replace('(def.GlobalSecondaryIndexes ?? []).map(', '(def.GlobalSecondaryIndexes ?? []).slice(1).map('), /table globalIndexes/],
    ['Dockerfile path wrong', (s) => s.replace("dockerfile: 'packages/worker/Dockerfile'", "dockerfile: 'worker/Dockerfile'"), /Dockerfile "worker\/Dockerfile" does not exist/],
    ['key rotation off', (s) => s.replace('enableKeyRotation: true', 'enableKeyRotation: false'), /enableKeyRotation/],
    ['a secret in the task environment', (s) => s.replace("LOG_LEVEL: 'info',", "LOG_LEVEL: 'info', WA_MASTER_KEY: 'hunter2',"), /must not carry secret material \(WA_MASTER_KEY\)/],
    ['prod not protected', (s) => s.replace('protect: prod,', 'protect: false,'), /prod must be removal "retain" and protect true/],
    ['the stream subscriber filters out link items', (s) => s.replace("{ dynamodb: { Keys: { sk: { S: ['LINK'] } } } }, ", ''), /must let link items \(sk LINK\) through/],
    ['the retry cron without the key', (s) => s.replace('      link: [table, dataKey],\n      environment: { TABLE_NAME: table.name, KMS_KEY_ID: kmsKey.arn },\n      nodejs,\n    }', '      link: [table],\n      environment: { TABLE_NAME: table.name, KMS_KEY_ID: kmsKey.arn },\n      nodejs,\n    }'), /cron WebhookRetry must link the key/],
    ['a top-level import', (s) => `import { tableDefinition } from './packages/core/src/store/table.ts'\n${s}`, /top-level imports are not allowed/],
  ]
  it.each(cases)('fails when %s', async (_name, edit, why) => {
    const variant = broken(edit)
    const problems = checkSstShape(await evaluateSstConfig(variant), variant)
    expect(problems.join('\n')).toMatch(why)
  })
})

describe.skipIf(!existsSync(PLATFORM_TYPES))('sst.config.ts against SST’s platform types (tsc)', () => {
  it('type-checks', () => {
    const r = typecheckSstConfig(source)
    expect(r.output).toBe('')
    expect(r.ok).toBe(true)
  }, 120_000)

  it('rejects wrong component args', () => {
    const r = typecheckSstConfig(broken((s) => s.replace("cpu: '0.5 vCPU'", "cpu: '0.6 vCPU'").replace('url: true', 'urls: true')))
    expect(r.ok).toBe(false)
    expect(r.output).toMatch(/0\.6 vCPU/)
    expect(r.output).toMatch(/'urls' does not exist/)
  }, 120_000)
})
