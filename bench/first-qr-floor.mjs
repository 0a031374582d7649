// The floors for bench:link: Baileys connecting to the simulator until its first QR, with nothing
// of ours in between. FLOOR_RUNS=1 (default): one fresh process, timed from its start (the cold
// floor: Node + the Baileys import + the handshake). FLOOR_RUNS=n: Baileys imported once, then n
// connections one after another, each timed from makeWASocket to its QR (the warm floor).
// Prints one `qr <ms>` line per connection.
import { performance } from 'node:perf_hooks'
import makeWASocket, { initAuthCreds } from 'baileys'
import pino from 'pino'

const runs = Number(process.env.FLOOR_RUNS ?? 1)

function firstQr() {
  const keys = new Map()
  const started = runs > 1 ? performance.now() : 0
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
  return new Promise((resolve) =>
    sock.ev.on('connection.update', ({ qr }) => {
      if (!qr) return
      process.stdout.write(`qr ${Math.round(performance.now() - started)}\n`)
      sock.end(undefined)
      resolve()
    }),
  )
}

for (let i = 0; i < runs; i++) await firstQr()
process.exit(0)
