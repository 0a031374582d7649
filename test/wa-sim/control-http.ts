// A small JSON HTTP surface to drive a running simulator by hand or from another process:
//   POST /scan {qr, phoneNumber?, name?}   POST /enter-code {phoneNumber, code}
//   POST /logout {jid}   POST /replace {jid}   POST /drop   POST /delay {ms}
//   POST /min-version {version: "2.3000.N" | null}   POST /require-passkey {phoneNumber, required?}
//   GET /devices   GET /connections   GET /qrs   GET /code-requests
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { WaSimulator } from './server.ts'
import type { CodeRequest, SimConnectionInfo, SimVersion } from './types.ts'

export interface ControlServer {
  url: string
  port: number
  close(): Promise<void>
}

type Handler = (body: Record<string, unknown>) => Promise<unknown> | unknown

export async function startControlServer(sim: WaSimulator, opts: { port?: number; host?: string } = {}): Promise<ControlServer> {
  // Refs each connection was sent, kept after it closes so a human can still look them up.
  const refsByConnection = new Map<number, string[]>()
  const codeRequests: CodeRequest[] = []
  sim.on('qr', (refs: string[], info: SimConnectionInfo) => refsByConnection.set(info.id, refs))
  sim.on('code-request', (request: CodeRequest) => codeRequests.push(request))

  const routes: Record<string, Handler> = {
    'POST /scan': body => sim.scan(requireString(body, 'qr'), { phoneNumber: optionalString(body, 'phoneNumber'), name: optionalString(body, 'name') }),
    'POST /enter-code': async body => {
      await sim.enterCode(requireString(body, 'phoneNumber'), requireString(body, 'code'))
      return { paired: true }
    },
    'POST /logout': body => (sim.logout(requireString(body, 'jid')), { ok: true }),
    'POST /replace': body => (sim.replace(requireString(body, 'jid')), { ok: true }),
    'POST /drop': () => (sim.dropAll(), { ok: true }),
    'POST /delay': body => (sim.setResponseDelay(Number(body.ms ?? 0)), { ok: true }),
    'POST /min-version': body => (sim.setMinVersion(body.version === null ? null : parseVersion(requireString(body, 'version'))), { ok: true }),
    'POST /require-passkey': body => (sim.requirePasskey(requireString(body, 'phoneNumber'), body.required !== false), { ok: true }),
    'GET /devices': () => sim.devices,
    'GET /connections': () => sim.connections(),
    // The server only knows refs; the full QR string (with the client's adv secret) is the client's.
    'GET /qrs': () => [...refsByConnection].map(([connectionId, refs]) => ({ connectionId, refs })),
    'GET /code-requests': () => codeRequests,
  }

  const server = createServer((req, res) => void handle(routes, req, res))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  return { url: `http://${opts.host ?? '127.0.0.1'}:${port}`, port, close: () => closeServer(server) }
}

async function handle(routes: Record<string, Handler>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const route = routes[`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`]
  if (!route) return send(res, 404, { error: 'not found' })
  try {
    const body = await readJson(req)
    send(res, 200, (await route(body)) ?? { ok: true })
  } catch (error) {
    send(res, 400, { error: (error as Error).message, name: (error as Error).name })
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8').trim()
  return text ? (JSON.parse(text) as Record<string, unknown>) : {}
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

function requireString(body: Record<string, unknown>, key: string): string {
  const value = body[key]
  if (typeof value !== 'string' || !value) throw new Error(`body.${key} (string) is required`)
  return value
}

function parseVersion(text: string): SimVersion {
  const parts = text.split('.').map(Number)
  if (parts.length !== 3 || !parts.every(Number.isSafeInteger)) throw new Error('body.version must look like 2.3000.1012345678')
  return parts as SimVersion
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  return typeof body[key] === 'string' ? (body[key] as string) : undefined
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise(resolve => server.close(() => resolve()))
}
