import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { GRACE_MS } from '@wa-link-broker/core/process'
import { isAlive, waitUntil } from '../support/e2e.ts'

const PARENT = fileURLToPath(new URL('../fixtures/guarded-parent.ts', import.meta.url))

async function startParent() {
  const parent = spawn(process.execPath, ['--import', 'tsx', PARENT], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  parent.stdout.on('data', (d) => (out += d))
  await waitUntil(() => out.includes('\n'), 15_000, 'the parent to start its children')
  const pids = JSON.parse(out) as { polite: number; stubborn: number }
  expect(isAlive(pids.polite) && isAlive(pids.stubborn)).toBe(true)
  return { parent, pids }
}

describe('dieWithParent', () => {
  it('stops the children of a parent killed with SIGKILL: SIGTERM first, SIGKILL for those that ignore it', async () => {
    const { parent, pids } = await startParent()
    const killedAt = Date.now()
    parent.kill('SIGKILL')
    await waitUntil(() => !isAlive(pids.polite), 5000, 'the polite child to stop')
    expect(Date.now() - killedAt).toBeLessThan(2000)
    expect(isAlive(pids.stubborn)).toBe(true)
    await waitUntil(() => !isAlive(pids.stubborn), GRACE_MS + 5000, 'the stubborn child to be killed')
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(GRACE_MS - 500)
  }, 30_000)

  it('stops them when the parent exits without stopping them itself', async () => {
    const { parent, pids } = await startParent()
    parent.kill('SIGTERM') // the fixture has no handler: it ends at once, leaving its children
    await waitUntil(() => !isAlive(pids.polite), 5000, 'the polite child to stop')
  }, 30_000)
})
