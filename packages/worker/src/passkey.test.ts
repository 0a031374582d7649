import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { PASSKEY_NOTIFICATION_TYPES, watchPasskeyGate } from './passkey.ts'

/** Baileys' sock.ws emits each frame as `CB:<tag>,<attr>:<value>`; this stands in for it. */
const socket = () => ({ ws: new EventEmitter() })
const notification = (type: string) => ({ tag: 'notification', attrs: { type, from: 's.whatsapp.net' } })

describe('watchPasskeyGate', () => {
  it.each(PASSKEY_NOTIFICATION_TYPES)('reports a %s notification once', (type) => {
    const sock = socket()
    const seen: string[] = []
    watchPasskeyGate(sock, (gate) => seen.push(gate))
    sock.ws.emit(`CB:notification,type:${type}`, notification(type))
    sock.ws.emit(`CB:notification,type:${type}`, notification(type))
    expect(seen).toEqual([type])
  })

  it('ignores other notifications, and stops listening when unsubscribed', () => {
    const sock = socket()
    const seen: string[] = []
    const unsubscribe = watchPasskeyGate(sock, (gate) => seen.push(gate))
    sock.ws.emit('CB:notification,type:link_code_companion_reg', notification('link_code_companion_reg'))
    unsubscribe()
    expect(sock.ws.eventNames()).toEqual([])
    sock.ws.emit('CB:notification,type:passkey_prologue_request', notification('passkey_prologue_request'))
    expect(seen).toEqual([])
  })
})
