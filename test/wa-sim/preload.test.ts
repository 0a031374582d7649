import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { promisify } from 'node:util'
import { Curve, proto, WA_CERT_DETAILS } from 'baileys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCertChain } from './certificates.ts'
import { PRELOAD_PATH, startSimulator, TEST_ROOT_KEY, trustTestRootKeyInThisProcess, type WaSimulator } from './index.ts'
import { connectClient, pairByQr } from './test-client.ts'

const run = promisify(execFile)
// libsignal 6 reports a bad signature by returning false; Baileys rc14's Curve.verify only
// catches throws, so it accepts anything. These tests use the real answer, as a fixed Baileys would.
const libsignalCurve = createRequire(import.meta.url)('libsignal/src/curve.js') as {
  verifySignature(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean
}
const strictVerify = (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) => {
  try {
    return libsignalCurve.verifySignature(Buffer.concat([Buffer.from([5]), pub]), msg, sig) === true
  } catch {
    return false
  }
}

describe('wa-sim test root key', () => {
  it('the preload makes a plain Node process trust the test root key', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', "const b = await import('baileys'); console.log(b.WA_CERT_DETAILS.PUBLIC_KEY.toString('hex'))"],
      { env: { ...process.env, NODE_OPTIONS: `--import ${PRELOAD_PATH}` }, cwd: process.cwd() },
    )
    expect(stdout.trim()).toBe(TEST_ROOT_KEY.public.toString('hex'))
  })

  it('the certificate chain verifies under the test root key and not under WhatsApp’s', () => {
    const chain = proto.CertChain.decode(buildCertChain(Curve.generateKeyPair()))
    const intermediate = proto.CertChain.NoiseCertificate.Details.decode(chain.intermediate!.details!)
    expect(intermediate.issuerSerial).toBe(0)
    expect(strictVerify(TEST_ROOT_KEY.public, chain.intermediate!.details!, chain.intermediate!.signature!)).toBe(true)
    expect(strictVerify(intermediate.key!, chain.leaf!.details!, chain.leaf!.signature!)).toBe(true)
    const waRootKey = Buffer.from('142375574d0a587166aae71ebe516437c4a28b73e3695c6ce1f7f9545da8ee6b', 'hex')
    expect(strictVerify(waRootKey, chain.intermediate!.details!, chain.intermediate!.signature!)).toBe(false)
  })

  describe('with signature checks enforced in Baileys', () => {
    const lenientVerify = Curve.verify
    let sim: WaSimulator
    beforeAll(async () => {
      Curve.verify = strictVerify
      sim = await startSimulator()
    })
    afterAll(async () => {
      Curve.verify = lenientVerify
      trustTestRootKeyInThisProcess()
      await sim.close()
    })

    it('refuses the simulator without the test root key', async () => {
      const pinned = WA_CERT_DETAILS.PUBLIC_KEY
      WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from('142375574d0a587166aae71ebe516437c4a28b73e3695c6ce1f7f9545da8ee6b', 'hex')
      try {
        const client = connectClient(sim)
        expect(await client.waitForClose()).toMatchObject({ message: 'noise intermediate certificate signature invalid' })
      } finally {
        WA_CERT_DETAILS.PUBLIC_KEY = pinned
      }
    })

    it('still pairs and opens with the test root key trusted', async () => {
      trustTestRootKeyInThisProcess()
      const { client, jid } = await pairByQr(sim, '15550008888')
      expect(client.sock.user?.id).toBe(jid)
      client.end()
    })
  })
})
