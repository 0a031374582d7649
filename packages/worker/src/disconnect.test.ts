import { describe, expect, it } from 'vitest'
import { closeReason, judgeClose } from './disconnect.ts'

/** Shaped like the Boom errors Baileys closes its socket with. */
const boom = (statusCode: number, message: string, data?: unknown) => Object.assign(new Error(message), { output: { statusCode }, data })

describe('judgeClose', () => {
  it.each([
    [boom(515, 'Stream Errored (restart required)'), { kind: 'restart' }],
    [boom(401, 'Connection Failure'), { kind: 'logged_out' }],
    [boom(440, 'Stream Errored (conflict)'), { kind: 'replaced' }],
    [boom(408, 'QR refs attempts ended'), { kind: 'qr_exhausted' }],
    [boom(405, 'Connection Failure'), { kind: 'version_rejected' }],
    [boom(408, 'WebSocket Error (connect ECONNREFUSED 127.0.0.1:9)', { code: 'ECONNREFUSED' }), { kind: 'unreachable', reason: 'connect ECONNREFUSED 127.0.0.1:9' }],
    [boom(408, 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.invalid)', { code: 'ENOTFOUND' }), { kind: 'unreachable', reason: 'getaddrinfo ENOTFOUND web.whatsapp.invalid' }],
    [boom(408, 'Connection was lost'), { kind: 'retry', reason: '408: Connection was lost' }],
    [boom(428, 'Connection Terminated'), { kind: 'retry', reason: '428: Connection Terminated' }],
  ])('%s → %j', (error, verdict) => {
    expect(judgeClose(closeReason(error))).toEqual(verdict)
  })

  it('a close without an error is a retry', () => {
    expect(judgeClose(closeReason(undefined))).toEqual({ kind: 'retry', reason: 'no status: connection closed' })
  })

  it('a data code that is not a network error does not count as unreachable', () => {
    expect(judgeClose(closeReason(boom(408, 'odd', { code: 'something' }))).kind).toBe('retry')
  })
})
