import { afterAll, beforeAll, expect, it } from 'vitest'
import { inEachWorkerMode, startE2E, type E2E } from '../support/e2e.ts'

inEachWorkerMode('pairing-code link, end to end', ({ warm }) => {
  let e2e: E2E
  beforeAll(async () => {
    e2e = await startE2E({ warm })
  })
  afterAll(() => e2e.stop())

  it('links with the code shown for a phone number typed in human format', async () => {
    const { id, clientToken } = await e2e.createLink({ method: 'code', phoneNumber: '+1 (234) 567-8901' })
    const waiting = await e2e.waitFor(id, (l) => l.pairingCode !== null, { key: clientToken })
    expect(waiting).toMatchObject({ status: 'awaiting_code', method: 'code', phoneNumber: '12345678901' })
    expect(waiting.pairingCode!.code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/)
    // A code link also carries the QR, so the user may scan instead.
    expect(waiting.qr).not.toBeNull()
    const request = await e2e.sim.nextCodeRequest({ timeoutMs: 5000 })
    expect(request.phoneNumber).toBe('12345678901')

    await e2e.sim.enterCode('12345678901', waiting.pairingCode!.code)
    const linked = await e2e.waitFor(id, (l) => l.status === 'linked', { key: clientToken })
    expect(linked).toMatchObject({ pairingCode: null, qr: null, account: { phoneNumber: '12345678901', jid: expect.stringMatching(/^12345678901:\d+@s\.whatsapp\.net$/) } })
  })

  it('a wrong code never links', async () => {
    const { id } = await e2e.createLink({ method: 'code', phoneNumber: '+44 20 7946 0958' })
    const waiting = await e2e.waitFor(id, (l) => l.pairingCode !== null)
    const wrong = waiting.pairingCode!.code === 'AAAA-AAAA' ? 'BBBB-BBBB' : 'AAAA-AAAA'
    await expect(e2e.sim.enterCode('442079460958', wrong)).rejects.toThrow()
    await new Promise((r) => setTimeout(r, 500))
    expect((await e2e.read(id)).status).toBe('awaiting_code')
    await e2e.request(`/v1/links/${id}`, { method: 'DELETE' })
  })

  it('switches a running QR link to a pairing code without starting over', async () => {
    const { id } = await e2e.createLink()
    const first = await e2e.waitFor(id, (l) => l.qr !== null)
    expect(first).toMatchObject({ status: 'awaiting_scan', method: 'qr', pairingCode: null })

    const res = await e2e.request(`/v1/links/${id}/pairing-code`, { method: 'POST', json: { phoneNumber: '+49 1512 3456789' } })
    expect(res.status).toBe(202)
    expect(await res.json()).toMatchObject({ method: 'code', phoneNumber: '4915123456789' })
    const again = await e2e.request(`/v1/links/${id}/pairing-code`, { method: 'POST', json: { phoneNumber: '+49 1512 3456789' } })
    expect(again.status).toBe(409)

    const withCode = await e2e.waitFor(id, (l) => l.pairingCode !== null)
    expect(withCode.status).toBe('awaiting_code')
    await e2e.sim.enterCode('4915123456789', withCode.pairingCode!.code)
    await e2e.waitFor(id, (l) => l.status === 'linked')
  })

  it('refuses a pairing code on a finished link or with a bad number', async () => {
    const { id } = await e2e.createLink()
    const bad = await e2e.request(`/v1/links/${id}/pairing-code`, { method: 'POST', json: { phoneNumber: 'twelve' } })
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.field).toBe('phoneNumber')
    await e2e.request(`/v1/links/${id}`, { method: 'DELETE' })
    const late = await e2e.request(`/v1/links/${id}/pairing-code`, { method: 'POST', json: { phoneNumber: '+1 234 567 8901' } })
    expect(late.status).toBe(409)
    expect((await late.json()).error.code).toBe('wrong_state')
  })

  it('no pairing code or QR value reached any log', () => {
    expect([...e2e.secretsSeen].some((s) => /^[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(s))).toBe(true)
    for (const secret of e2e.secretsSeen) expect(e2e.logs.text).not.toContain(secret)
  })
})
