import { describe, expect, it } from 'vitest'
import { createLogger } from '@wa-link-broker/core/logger'
import { baileysLevel, baileysLogger } from './baileys-logger.ts'

const streamError = (code: string) => ({ reasonNode: undefined, fullErrorNode: { tag: 'stream:error', attrs: { code } } })

describe('the logger Baileys gets', () => {
  it("WhatsApp's routine 515 restart after pairing is not an error; other stream errors are", () => {
    expect(baileysLevel('error', streamError('515'), 'stream errored out')).toBe('debug')
    expect(baileysLevel('error', streamError('401'), 'stream errored out')).toBe('error')
    expect(baileysLevel('error', {}, 'unexpected error in x')).toBe('error')
    expect(baileysLevel('warn', streamError('515'), 'stream errored out')).toBe('warn')
  })

  it('writes through our logger at the chosen level, children included', () => {
    const lines: Record<string, unknown>[] = []
    const logger = createLogger({ level: 'trace' }, { write: (l: string) => void lines.push(JSON.parse(l)) })
    const baileys = baileysLogger(logger, 'warn') as { child(b: object): { error(o: unknown, m?: string): void; info(o: unknown, m?: string): void } }
    const child = baileys.child({ class: 'socket' })
    child.error(streamError('515'), 'stream errored out')
    child.info({}, 'connection errored')
    child.error(streamError('428'), 'stream errored out')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level: 50, component: 'baileys', class: 'socket', msg: 'stream errored out' })
  })
})
