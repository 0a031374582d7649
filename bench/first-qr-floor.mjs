// The floor for bench:link: a bare Node process that imports Baileys and connects to the simulator
// until its first QR, with nothing of ours in between. Prints the ms from process start to the QR.
import makeWASocket, { initAuthCreds } from 'baileys'
import pino from 'pino'

const keys = new Map()
const sock = makeWASocket({
  waWebSocketUrl: process.env.WA_WS_URL,
  logger: pino({ level: 'silent' }),
  auth: {
    creds: initAuthCreds(),
    keys: {
      get: async (type, ids) => Object.fromEntries(ids.map((id) => [id, keys.get(`${type}:${id}`)])),
      set: async (data) => {
        for (const [type, values] of Object.entries(data)) for (const [id, value] of Object.entries(values)) keys.set(`${type}:${id}`, value)
      },
    },
  },
})
sock.ev.on('connection.update', ({ qr }) => {
  if (!qr) return
  process.stdout.write(`qr ${Math.round(performance.now())}\n`)
  sock.end(undefined)
  process.exit(0)
})
