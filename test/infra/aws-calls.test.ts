import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, type Metafile } from 'esbuild'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { awsCallsOf, bundledCommands, bundledSources, repoProgram } from './aws-calls.ts'

const ROOT = join(import.meta.dirname, '../..')
const FIXTURE = join(ROOT, 'test/fixtures/aws-calls')

async function metafileOf(entry: string): Promise<Metafile> {
  // As the shipped bundles are built (ESM builds of the SDK); a temp entry resolves packages from the repo.
  const out = await build({
    entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', mainFields: ['module', 'main'], write: false, metafile: true, outdir: 'out',
    nodePaths: [join(ROOT, 'node_modules')], logLevel: 'silent',
  })
  return out.metafile
}

describe('awsCallsOf: the AWS calls reachable from an entry point, as IAM actions', () => {
  it('counts what the handler reaches, not what is merely bundled', async () => {
    const entry = join(FIXTURE, 'entry.ts')
    const metafile = await metafileOf(entry)
    const calls = awsCallsOf(entry, bundledSources(metafile), { explain: true })
    expect(Object.keys(calls.actions)).toEqual([
      // The transaction's Put and ConditionCheck items (there is no TransactWriteItems action).
      'dynamodb:ConditionCheckItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      // Called through the Launcher interface on the one class the entry builds; RunTask passes a role.
      'ecs:RunTask',
      'iam:PassRole',
    ])
    // Store.remove (bundled with its class), listAll and Stopper (only referenced by a function
    // nobody calls) add nothing.
    expect(calls.actions['dynamodb:GetItem'][0]).toMatch(/fixtures\/aws-calls\/store\.ts:\d+ in Store\.read \(.*\) ← handler \(.*entry\.ts:\d+\)/)
    // Every command it found is in the bundle.
    expect(calls.commands.filter((c) => !bundledCommands(metafile).has(c))).toEqual([])
  })

  it('counts a call as soon as reachable code makes it', async () => {
    // The same fixture, with a handler that also removes and lists, and builds the other launcher.
    const dir = mkdtempSync(join(tmpdir(), 'aws-calls-'))
    const entry = join(dir, 'entry.ts')
    writeFileSync(
      entry,
      `import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
       import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
       import { Stopper, type Launcher } from '${FIXTURE}/launchers.ts'
       import { Store, listAll } from '${FIXTURE}/store.ts'
       const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}))
       const launchers: Launcher[] = [new Stopper()]
       export async function handler() {
         await new Store(doc).remove()
         await listAll(doc)
         for (const l of launchers) await l.launch()
       }`,
    )
    const program = ts.createProgram({ rootNames: [entry], options: repoProgram().getCompilerOptions() })
    const calls = awsCallsOf(entry, bundledSources(await metafileOf(entry)), { program })
    expect(Object.keys(calls.actions)).toEqual(['dynamodb:DeleteItem', 'dynamodb:Query', 'ecs:StopTask'])
  })
})
