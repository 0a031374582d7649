import { spawn, type ChildProcess } from 'node:child_process'

/**
 * Children that must not outlive this process, even when it is killed with SIGKILL and runs no
 * cleanup of its own (DynamoDB Local's Java process, local workers).
 *
 * Linux has no portable way for a child to ask for a signal when its parent dies without native
 * code (`prctl(PR_SET_PDEATHSIG)`), and a Java or foreign child cannot be changed to watch for it.
 * So one small guardian process per parent does the watching: it reads a pipe whose only writer
 * is this process; when this process dies, however it dies, the kernel closes the pipe, the
 * guardian reads end-of-file, and it stops every child still registered (SIGTERM, then SIGKILL
 * after `GRACE_MS`). Registration is a line on that pipe (`+pid`, `-pid` once the child exited).
 */
export function dieWithParent(child: ChildProcess): void {
  if (child.pid === undefined) {
    child.once('spawn', () => dieWithParent(child))
    return
  }
  const pid = child.pid
  guarded.add(child)
  send(`+${pid}`)
  child.once('exit', () => {
    guarded.delete(child)
    send(`-${pid}`)
  })
}

/** How long the guardian waits after SIGTERM before SIGKILL: enough for a worker to record its ending. */
export const GRACE_MS = 5_000

const GUARDIAN_SOURCE = `
const pids = new Set()
let pending = ''
// Ctrl-C and a closed terminal are the parent's to handle; the guardian outlives them to clean up.
for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.on(signal, () => {})
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => {
  pending += chunk
  const lines = pending.split('\\n')
  pending = lines.pop()
  for (const line of lines) {
    const pid = Number(line.slice(1))
    if (line[0] === '+') pids.add(pid)
    else if (line[0] === '-') pids.delete(pid)
  }
})
let reaping = false
const reap = () => {
  if (reaping) return
  reaping = true
  const signal = (name) => { for (const pid of pids) try { process.kill(pid, name) } catch { pids.delete(pid) } }
  signal('SIGTERM')
  const check = setInterval(() => {
    signal(0)
    if (pids.size === 0) process.exit(0)
  }, 50)
  setTimeout(() => { signal('SIGKILL'); process.exit(0) }, ${GRACE_MS})
}
process.stdin.on('end', reap)
process.stdin.on('close', reap)
process.stdin.on('error', reap)
`

const guarded = new Set<ChildProcess>()
let guardian: ChildProcess | undefined

function send(line: string): void {
  const stdin = ensureGuardian().stdin!
  stdin.write(`${line}\n`)
}

function ensureGuardian(): ChildProcess {
  if (guardian) return guardian
  const started = spawn(process.execPath, ['-e', GUARDIAN_SOURCE], {
    stdio: ['pipe', 'ignore', 'inherit'],
    // Not inherited by the guardian: a test preload or a debugger flag meant for the parent.
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  // The guardian must never keep this process alive.
  started.unref()
  ;(started.stdin as unknown as { unref(): void }).unref()
  started.stdin!.on('error', () => undefined)
  started.once('exit', () => {
    // Killed from outside: start another and hand it the children still running.
    if (guardian !== started) return
    guardian = undefined
    for (const child of guarded) if (child.exitCode === null && child.signalCode === null) send(`+${child.pid}`)
  })
  guardian = started
  return started
}
