import { spawn, execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { freePort } from '../../scripts/dynamodb-local.ts'

function javaListeningOn(port: number): boolean {
  try {
    return execFileSync('pgrep', ['-f', `DynamoDBLocal.jar.*-port ${port}`], { encoding: 'utf8' }).trim().length > 0
  } catch {
    return false
  }
}

function startScriptRunning(port: number): boolean {
  try {
    return execFileSync('pgrep', ['-f', 'scripts/start.ts'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .some((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`PORT=${port}\0`))
  } catch {
    return false
  }
}

describe('npm start', () => {
  it('serves the API with a printed dev key, and SIGTERM to npm leaves no Java process behind', async () => {
    const [port, dynamoPort] = [await freePort(), await freePort()]
    // Exactly what a user runs: npm, which runs the script under `sh -c`.
    const child = spawn('npm', ['start', '--silent'], {
      env: { ...process.env, PORT: String(port), DYNAMODB_PORT: String(dynamoPort), DEV_API_KEY: '', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const deadline = Date.now() + 45_000
    while (!/API key \(tenant "dev"\): (wlb_\S+)/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm start did not come up:\n${output}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    const key = /API key \(tenant "dev"\): (wlb_\S+)/.exec(output)![1]
    expect(output).toContain(`curl -s -X POST http://localhost:${port}/v1/links`)
    // The demo comes first, and works; it never shows the key.
    expect(/https?:\/\/\S+/.exec(output)![0]).toBe(`http://localhost:${port}/demo`)
    const demo = await fetch(`http://127.0.0.1:${port}/demo`)
    expect(demo.status).toBe(200)
    expect(await demo.text()).not.toContain(key)
    const res = await fetch(`http://127.0.0.1:${port}/v1/links`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(201)
    expect(javaListeningOn(dynamoPort)).toBe(true)

    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
    const deadline2 = Date.now() + 10_000
    while ((javaListeningOn(dynamoPort) || startScriptRunning(port)) && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 200))
    expect(javaListeningOn(dynamoPort)).toBe(false)
    expect(startScriptRunning(port)).toBe(false)
  }, 60_000)
})
