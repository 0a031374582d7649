import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { GENERATED } from '../../scripts/generate.ts'

const root = resolve(import.meta.dirname, '../..')

describe('generated files are what the current sources generate (run `npm run generate`)', () => {
  it.each(Object.keys(GENERATED))('%s', async (file) => {
    const generate = GENERATED[file as keyof typeof GENERATED]
    expect(readFileSync(resolve(root, file), 'utf8')).toBe(await generate())
  }, 60_000)
})
