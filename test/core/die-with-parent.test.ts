import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { GRACE_MS } from '@wa-link-broker/core/process'
import { isAlive, waitUntil } from '../support/e2e.ts'

const PARENT = fileURLToPath(new URL('../fixtures/guarded-parent.ts', import.meta.url))
/** Only a guard against a hang: what is asserted is which signal ended each child, not how fast. */
const HANG_GUARD_MS = GRACE_MS + 20_000

async function startParent() {
  const dir = mkdtempSync(join(tmpdir(), 'die-with-parent-'))
  const parent = spawn(process.execPath, ['--import', 'tsx', PARENT, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  parent.stdout.on('data', (d) => (out += d))
  await waitUntil(() => out.includes('\n'), 15_000, 'the parent to start its children')
  const pids = JSON.parse(out) as { polite: number; stubborn: number }
  expect(isAlive(pids.polite) && isAlive(pids.stubborn)).toBe(true)
  // What each child received, as it recorded it (a SIGKILL leaves no record).
  const received = (pid: number) => (existsSync(join(dir, String(pid))) ? readFileSync(join(dir, String(pid)), 'utf8').trim().split('\n') : [])
  return { parent, pids, received }
}

describe('dieWithParent', () => {
  it('stops the children of a parent killed with SIGKILL: SIGTERM first, SIGKILL for those that ignore it', async () => {
    const { parent, pids, received } = await startParent()
    const killedAt = Date.now()
    parent.kill('SIGKILL')
    await waitUntil(() => !isAlive(pids.polite), HANG_GUARD_MS, 'the polite child to stop')
    // It ended through its SIGTERM handler (which exits): the guardian asked first.
    expect(received(pids.polite)).toEqual(['SIGTERM'])
    await waitUntil(() => !isAlive(pids.stubborn), HANG_GUARD_MS, 'the stubborn child to be killed')
    // It got the same SIGTERM, ignored it, and was killed only after the grace period (a lower
    // bound: load can only make it later).
    expect(received(pids.stubborn)).toEqual(['SIGTERM'])
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(GRACE_MS - 500)
  }, 60_000)

  it('stops them when the parent exits without stopping them itself', async () => {
    const { parent, pids, received } = await startParent()
    parent.kill('SIGTERM') // the fixture has no handler: it ends at once, leaving its children
    await waitUntil(() => !isAlive(pids.polite), HANG_GUARD_MS, 'the polite child to stop')
    expect(received(pids.polite)).toEqual(['SIGTERM'])
    await waitUntil(() => !isAlive(pids.stubborn), HANG_GUARD_MS, 'the stubborn child to be killed')
  }, 60_000)
})
