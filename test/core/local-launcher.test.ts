import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { LaunchError } from '@wa-link-broker/core/launcher'
import { LocalProcessLauncher, type ExitedWorker, type LocalProcessLauncherOptions } from '@wa-link-broker/core/launchers/local'
import { createLogger } from '@wa-link-broker/core/logger'

const FAKE_WORKER = fileURLToPath(new URL('../fixtures/fake-worker.mjs', import.meta.url))

type Entry = Record<string, any>

function capture() {
  const entries: Entry[] = []
  const logger = createLogger({ level: 'trace' }, { write: (line: string) => void entries.push(JSON.parse(line)) })
  return { entries, logger }
}

const launchers: LocalProcessLauncher[] = []
function launcher(options: Partial<LocalProcessLauncherOptions> & Pick<LocalProcessLauncherOptions, 'logger'>) {
  const created = new LocalProcessLauncher({ command: [process.execPath, FAKE_WORKER], ...options })
  launchers.push(created)
  return created
}
afterEach(async () => {
  await Promise.all(launchers.splice(0).map((l) => l.stopAll()))
  delete process.env.FAKE_WORKER_PROBE
})

async function until(condition: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0)
    return true // also true for a zombie: so "not alive" means exited *and* reaped
  } catch {
    return false
  }
}

const exitedOf = (entries: Entry[], linkId: string) => entries.some((e) => e.worker === linkId && e.msg === 'worker exited')
const pidOf = (entries: Entry[], linkId: string) => entries.find((e) => e.worker === linkId && e.msg === 'worker started')?.workerPid as number

describe('LocalProcessLauncher', () => {
  it('runs the worker with LINK_ID, WORKER_MODE and the parent environment, relaying its log lines', async () => {
    const { entries, logger } = capture()
    process.env.FAKE_WORKER_PROBE = 'from-parent'
    const l = launcher({ logger, env: { FAKE_WORKER_SECRET: 'never-in-the-logs-7f3a' } })
    await l.launch({ linkId: 'lnk_a', mode: 'logout' })
    await until(() => exitedOf(entries, 'lnk_a'))

    const up = entries.find((e) => e.msg === 'fake worker up')!
    expect(up).toMatchObject({ worker: 'lnk_a', level: 30, linkId: 'lnk_a', mode: 'logout', probe: 'from-parent' })
    expect(up.pid).toBe(process.pid) // the parent's own field, not the child's copy
    expect(entries.find((e) => e.msg === 'an error line')).toMatchObject({ worker: 'lnk_a', level: 50, code: 'something_broke' })
    expect(entries.find((e) => e.msg === 'a plain stderr line')).toMatchObject({ worker: 'lnk_a', level: 40 })
    expect(entries.find((e) => e.msg === 'a plain stdout line')).toMatchObject({ worker: 'lnk_a', level: 30 })
    expect(entries.find((e) => e.msg === 'worker exited')).toMatchObject({ worker: 'lnk_a', code: 0 })
    // The environment (which carries secrets in real deployments) is never logged.
    expect(JSON.stringify(entries)).not.toContain('never-in-the-logs-7f3a')
    for (const entry of entries) expect(Object.keys(entry)).not.toContain('env')
    expect(isAlive(pidOf(entries, 'lnk_a'))).toBe(false)
    expect(l.running()).toBe(0)
  })

  it('keeps at most maxConcurrent workers alive and runs the queued ones later', async () => {
    const { entries, logger } = capture()
    const l = launcher({ logger, maxConcurrent: 2, env: { FAKE_WORKER_SLEEP_MS: '300' } })
    const ids = ['lnk_1', 'lnk_2', 'lnk_3', 'lnk_4', 'lnk_5']
    let peak = 0
    const sampler = setInterval(() => {
      peak = Math.max(peak, ids.map((id) => pidOf(entries, id)).filter((pid) => pid && isAlive(pid)).length)
    }, 5)
    for (const linkId of ids) await l.launch({ linkId, mode: 'link' })
    expect(l.running()).toBe(2)
    expect(l.queued()).toBe(3)
    await until(() => ids.every((id) => exitedOf(entries, id)))
    clearInterval(sampler)

    // The workers' own clocks agree: no three of their lifetimes overlap.
    const spans = entries.filter((e) => e.msg === 'fake worker done').map((e) => [e.startedAt, e.endedAt] as const)
    expect(spans).toHaveLength(5)
    for (const [start] of spans) expect(spans.filter(([s, e]) => s <= start && start < e).length).toBeLessThanOrEqual(2)
    expect(peak).toBeGreaterThan(0)
    expect(peak).toBeLessThanOrEqual(2)
    for (const id of ids) expect(isAlive(pidOf(entries, id))).toBe(false)
    expect(l.running()).toBe(0)
  })

  it('stopAll() terminates a long-running worker and leaves no process behind', async () => {
    const { entries, logger } = capture()
    const l = launcher({ logger, env: { FAKE_WORKER_HANG: '1' } })
    await l.launch({ linkId: 'lnk_hang', mode: 'link' })
    await until(() => entries.some((e) => e.msg === 'fake worker up'))
    const pid = pidOf(entries, 'lnk_hang')
    expect(isAlive(pid)).toBe(true)
    await l.stopAll()
    expect(isAlive(pid)).toBe(false)
    expect(l.running()).toBe(0)
    expect(entries.find((e) => e.msg === 'worker exited')).toMatchObject({ worker: 'lnk_hang', code: 0 })
  })

  it('kills a worker that ignores SIGTERM', async () => {
    const { entries, logger } = capture()
    const l = launcher({ logger, stopTimeoutMs: 300, env: { FAKE_WORKER_HANG: '1', FAKE_WORKER_IGNORE_TERM: '1' } })
    await l.launch({ linkId: 'lnk_stubborn', mode: 'link' })
    await until(() => entries.some((e) => e.msg === 'fake worker up'))
    const pid = pidOf(entries, 'lnk_stubborn')
    await l.stopAll()
    expect(isAlive(pid)).toBe(false)
    expect(entries.find((e) => e.msg === 'worker exited')).toMatchObject({ signal: 'SIGKILL' })
  })

  it('drops queued launches on stopAll()', async () => {
    const { entries, logger } = capture()
    const l = launcher({ logger, maxConcurrent: 1, env: { FAKE_WORKER_HANG: '1' } })
    await l.launch({ linkId: 'lnk_run', mode: 'link' })
    await l.launch({ linkId: 'lnk_wait', mode: 'link' })
    await l.stopAll()
    expect(l.running()).toBe(0)
    expect(l.queued()).toBe(0)
    expect(entries.some((e) => e.worker === 'lnk_wait' && e.msg === 'worker started')).toBe(false)
  })

  it('gives each worker its own host id, starts a warm host without LINK_ID, and reports every exit', async () => {
    const { entries, logger } = capture()
    const exits: ExitedWorker[] = []
    process.env.LINK_ID = 'lnk_inherited_from_parent'
    try {
      const l = launcher({ logger, onExit: (w) => exits.push(w) })
      await l.launch({ mode: 'host' })
      await l.launch({ linkId: 'lnk_b', mode: 'host' })
      await until(() => exits.length === 2)
    } finally {
      delete process.env.LINK_ID
    }
    const ups = entries.filter((e) => e.msg === 'fake worker up')
    const warm = ups.find((e) => e.linkId === null)!
    const overflow = ups.find((e) => e.linkId === 'lnk_b')!
    expect(warm).toMatchObject({ mode: 'host', hostId: expect.stringMatching(new RegExp(`^local-${process.pid}-[0-9a-f]{12}$`)) })
    expect(overflow.hostId).not.toBe(warm.hostId)
    expect(exits.map((e) => [e.hostId, e.request, e.code]).sort()).toEqual(
      [[warm.hostId, { mode: 'host' }, 0], [overflow.hostId, { linkId: 'lnk_b', mode: 'host' }, 0]].sort(),
    )
  })

  it('rejects launch() when the worker cannot be spawned', async () => {
    const { logger } = capture()
    const l = launcher({ logger, command: ['/nonexistent/worker-binary'] })
    await expect(l.launch({ linkId: 'lnk_x', mode: 'link' })).rejects.toBeInstanceOf(LaunchError)
    expect(l.running()).toBe(0)
  })
})
