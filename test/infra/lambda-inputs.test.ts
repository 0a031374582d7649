import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, type Metafile } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildLambda, LAMBDA_ENTRIES, type BuiltBundle } from '../../scripts/build.ts'

/**
 * What a Lambda must never load, named by what esbuild read for the bundle (every input file and
 * what each imports, kept or dropped): Baileys (a worker's, ~4 MB with its WASM bridge) and
 * child_process (the local launcher's). Each Lambda imports only the core subpaths it uses
 * (docs/architecture.md), so no plugin has to drop them again.
 */
function workerOnlyInputs(metafile: Metafile): string[] {
  const baileys = /(^|\/)node_modules\/(baileys|libsignal|whatsapp-rust-bridge|music-metadata)\//
  const found = Object.entries(metafile.inputs).flatMap(([input, { imports }]) => [
    ...(baileys.test(input) ? [input] : []),
    ...imports.filter((i) => /^(node:)?child_process$|^baileys(\/|$)/.test(i.path)).map((i) => `${input} → ${i.path}`),
  ])
  return [...new Set(found)]
}

let bundles: BuiltBundle[]
beforeAll(async () => {
  // The deploy build (buildLambda()'s defaults), into a directory of its own.
  bundles = await buildLambda({ outDir: mkdtempSync(join(tmpdir(), 'lambda-inputs-')) })
}, 120_000)

describe('the Lambda bundles hold no worker code', () => {
  it('no Baileys and no child_process among any bundle’s inputs', () => {
    expect(bundles.map((b) => b.name).sort()).toEqual(Object.keys(LAMBDA_ENTRIES).sort())
    for (const { name, metafile } of bundles) expect({ name, inputs: workerOnlyInputs(metafile) }).toEqual({ name, inputs: [] })
  })

  it('the check sees them where they are: the worker’s Baileys state and the local launcher', async () => {
    const metafileOf = async (entry: string) => (await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, logLevel: 'silent' })).metafile
    expect(workerOnlyInputs(await metafileOf('packages/core/src/auth-state/baileys.ts')).some((i) => i.includes('node_modules/baileys/'))).toBe(true)
    expect(workerOnlyInputs(await metafileOf('packages/core/src/launchers/local-process.ts'))).toContain('packages/core/src/launchers/local-process.ts → node:child_process')
  }, 60_000)
})
