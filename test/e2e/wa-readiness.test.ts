import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DEFAULT_CONNECTION_CONFIG } from 'baileys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startE2E, type E2E } from '../support/e2e.ts'
import { PasskeyRequiredError, type SimVersion } from '../wa-sim/index.ts'

/**
 * What breaks links on the real WhatsApp and no other suite sees: a stale client version (405) and
 * accounts that must confirm a new device with a passkey. The workers read the latest version from
 * a local stand-in for web.whatsapp.com/sw.js (WA_VERSION_URL), so this stays offline.
 */
const [major, minor, bundledRevision] = DEFAULT_CONNECTION_CONFIG.version
const OLD = bundledRevision - 1
const NEW = bundledRevision + 1000
const NEWEST = bundledRevision + 2000
const version = (revision: number): SimVersion => [major, minor, revision]

let source: Server
/** The revisions the stand-in will answer, in turn; the last one repeats. */
let revisions: number[] = []
let served: number[] = []
let e2e: E2E
const rejected: string[] = []

beforeAll(async () => {
  source = createServer((_, res) => {
    const revision = revisions.length > 1 ? revisions.shift()! : revisions[0]
    served.push(revision)
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(`self.__swData=JSON.parse("{\\"client_revision\\":${revision}}")`)
  })
  await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve))
  e2e = await startE2E({ sim: { minVersion: version(NEW) }, workerEnv: { WA_VERSION: '', WA_VERSION_URL: `http://127.0.0.1:${(source.address() as AddressInfo).port}/sw.js` } })
  e2e.sim.on('version-rejected', (v: string) => rejected.push(v))
})
afterAll(async () => {
  await e2e?.stop()
  await new Promise((resolve) => source.close(resolve))
})

describe('WhatsApp Web version', () => {
  it('a 405 before the first QR refreshes the version once and the link goes on to link', async () => {
    revisions = [OLD, NEW]
    served = []
    rejected.length = 0
    const { id } = await e2e.createLink()
    const waiting = await e2e.waitFor(id, (l) => l.qr !== null, { timeoutMs: 20_000 })
    expect(rejected).toEqual([version(OLD).join('.')])
    expect(served).toEqual([OLD, NEW])
    await e2e.sim.scan(waiting.qr!.value)
    await e2e.waitFor(id, (l) => l.status === 'linked')
    expect(e2e.logs.text).toMatch(new RegExp(`"waVersion":"${major}\\.${minor}\\.${NEW}","source":"latest"`))
  })

  it('a second 405 ends the link failed/version_rejected', async () => {
    // Even the refreshed version is too old for this WhatsApp.
    e2e.sim.setMinVersion(version(NEWEST))
    revisions = [NEW]
    rejected.length = 0
    try {
      const { id } = await e2e.createLink()
      const failed = await e2e.waitFor(id, (l) => l.status === 'failed', { timeoutMs: 20_000 })
      expect(failed).toMatchObject({ qr: null, error: { code: 'version_rejected' } })
      expect(rejected).toHaveLength(2)
    } finally {
      e2e.sim.setMinVersion(version(NEW))
    }
  })
})

describe('an account that must confirm new devices with a passkey', () => {
  it('QR: the scan ends the link failed/passkey_required at once', async () => {
    revisions = [NEW]
    const phoneNumber = '15550007701'
    e2e.sim.requirePasskey(phoneNumber)
    const { id, clientToken } = await e2e.createLink()
    const waiting = await e2e.waitFor(id, (l) => l.qr !== null)
    const scanned = Date.now()
    await expect(e2e.sim.scan(waiting.qr!.value, { phoneNumber })).rejects.toBeInstanceOf(PasskeyRequiredError)
    const failed = await e2e.waitFor(id, (l) => l.status === 'failed', { key: clientToken })
    expect(Date.now() - scanned).toBeLessThan(5000)
    expect(failed).toMatchObject({ qr: null, pairingCode: null, error: { code: 'passkey_required', message: expect.stringMatching(/passkey/) } })
  })

  it('pairing code: entering the code ends the link failed/passkey_required at once', async () => {
    revisions = [NEW]
    const phoneNumber = '14155550177'
    e2e.sim.requirePasskey(phoneNumber)
    const { id } = await e2e.createLink({ method: 'code', phoneNumber })
    const waiting = await e2e.waitFor(id, (l) => l.pairingCode !== null)
    await expect(e2e.sim.enterCode(phoneNumber, waiting.pairingCode!.code)).rejects.toBeInstanceOf(PasskeyRequiredError)
    const failed = await e2e.waitFor(id, (l) => l.status === 'failed')
    expect(failed).toMatchObject({ pairingCode: null, error: { code: 'passkey_required' } })
  })
})
