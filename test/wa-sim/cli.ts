// `npm run sim`: a standalone simulator with its HTTP control surface.
//   SIM_PORT / --port (default 7777), SIM_HTTP_PORT / --http-port (default 7778),
//   --refs N, --delay MS, --min-version 2.3000.N
import { parseArgs } from 'node:util'
import { startControlServer } from './control-http.ts'
import { PRELOAD_PATH } from './test-root-key.ts'
import { startSimulator } from './server.ts'
import type { SimVersion } from './types.ts'

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'http-port': { type: 'string' },
    host: { type: 'string' },
    refs: { type: 'string' },
    delay: { type: 'string' },
    'min-version': { type: 'string' },
  },
})

const host = values.host ?? '127.0.0.1'
const sim = await startSimulator({
  host,
  port: Number(values.port ?? process.env.SIM_PORT ?? 7777),
  refs: values.refs ? Number(values.refs) : undefined,
  responseDelayMs: values.delay ? Number(values.delay) : undefined,
  minVersion: values['min-version'] ? (values['min-version'].split('.').map(Number) as SimVersion) : undefined,
})
const control = await startControlServer(sim, { host, port: Number(values['http-port'] ?? process.env.SIM_HTTP_PORT ?? 7778) })

sim.on('connection', info => console.log(`[sim] connection #${info.id} opened`))
sim.on('close', info => console.log(`[sim] connection #${info.id} closed (${info.kind}${info.jid ? ` ${info.jid}` : ''})`))
sim.on('qr', (refs: string[], info) => console.log(`[sim] sent ${refs.length} QR refs to connection #${info.id}`))
sim.on('code-request', req => console.log(`[sim] pairing code requested for +${req.phoneNumber} (connection #${req.connectionId})`))
sim.on('paired', device => console.log(`[sim] paired ${device.jid}`))
sim.on('login', device => console.log(`[sim] login ${device.jid}`))

console.log(`WhatsApp simulator listening on ${sim.url}
HTTP control on ${control.url}

Run the service against it, then open http://localhost:3000/demo (its button scans with this phone):
  WA_WS_URL=${sim.url} SIM_CONTROL_URL=${control.url} NODE_OPTIONS="--import ${PRELOAD_PATH}" npm start

Point Baileys at it:   makeWASocket({ waWebSocketUrl: '${sim.url}', ... })
and trust its test root key in that process:
  NODE_OPTIONS="--import ${PRELOAD_PATH}"

  curl -s -XPOST ${control.url}/scan -d '{"qr":"https://wa.me/settings/linked_devices#..."}'
  curl -s -XPOST ${control.url}/enter-code -d '{"phoneNumber":"15550001234","code":"ABCD-EFGH"}'
  curl -s ${control.url}/devices
  curl -s ${control.url}/qrs
  curl -s -XPOST ${control.url}/logout -d '{"jid":"15550001234:1@s.whatsapp.net"}'
  curl -s -XPOST ${control.url}/replace -d '{"jid":"15550001234:1@s.whatsapp.net"}'
  curl -s -XPOST ${control.url}/drop
  curl -s -XPOST ${control.url}/delay -d '{"ms":2000}'
  curl -s -XPOST ${control.url}/min-version -d '{"version":"2.3000.1099999999"}'   # older clients get 405
  curl -s -XPOST ${control.url}/require-passkey -d '{"phoneNumber":"15550001234"}'
`)

const shutdown = async () => {
  await control.close()
  await sim.close()
  process.exit(0)
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
