import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request the receiver got, and what it answered. */
export interface ReceivedWebhook {
  id: string
  /** The request's path and query. */
  path: string
  headers: Record<string, string>
  body: string
  json: { type: string; timestamp: string; data: { link: { id: string; status: string; updatedAt: string; qr: { value: string; sequence: number } | null; pairingCode: { code: string } | null } } }
  status: number
  at: number
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>`. */
  origin: string
  received: ReceivedWebhook[]
  /** Decides each answer's status (called when a request has arrived); 200 unless set. */
  answer: (hook: Omit<ReceivedWebhook, 'status'>) => number
  /** How long the receiver takes to answer (the request counts as received when answered); 0 unless set. */
  delayMs: number
  /** Deliveries for one link, in arrival order. */
  forLink(linkId: string): ReceivedWebhook[]
  waitFor(predicate: (received: ReceivedWebhook[]) => boolean, timeoutMs?: number, what?: string): Promise<ReceivedWebhook[]>
  close(): Promise<void>
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]))
}

/** A real HTTP receiver on 127.0.0.1 (a random port), recording every delivery it gets. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = []
  const receiver: WebhookReceiver = {
    origin: '',
    received,
    answer: () => 200,
    delayMs: 0,
    forLink: (linkId) => received.filter((r) => r.json.data.link.id === linkId),
    async waitFor(predicate, timeoutMs = 15_000, what = 'deliveries') {
      const deadline = Date.now() + timeoutMs
      while (!predicate(received)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(received.map((r) => [r.id, r.json.type, r.status]))}`)
        await new Promise((r) => setTimeout(r, 25))
      }
      return received
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const hook = { id: String(req.headers['webhook-id']), path: req.url ?? '', headers: flatHeaders(req.headers), body, json: JSON.parse(body), at: Date.now() }
      const status = receiver.answer(hook)
      setTimeout(() => {
        received.push({ ...hook, status })
        res.writeHead(status, { 'content-type': 'text/plain' }).end('ok')
      }, receiver.delayMs)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  receiver.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return receiver
}
