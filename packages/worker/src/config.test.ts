import { describe, expect, it } from 'vitest'
import { DEFAULT_HOST_SESSIONS, DEFAULT_IDLE_EXIT_MS, loadWorkerConfig } from './config.ts'

const parseWorkerSettings = (env: Record<string, string | undefined>) => loadWorkerConfig(env).settings

const LINK = 'lnk_0123456789abcdefghjkmnpqrs'

describe('parseWorkerSettings', () => {
  it('a one-shot link worker: capacity 1, never idles out, defaults filled in', () => {
    expect(parseWorkerSettings({ LINK_ID: LINK })).toMatchObject({ mode: 'link', linkId: LINK, maxSessions: 1, idleExitMs: 0, heartbeatMs: 3000, pollMs: 100, maxReconnects: 5, baileysLogLevel: 'warn' })
  })

  it('a warm host stays; a host started for a waiting link exits when idle', () => {
    expect(parseWorkerSettings({ WORKER_MODE: 'host' })).toMatchObject({ mode: 'host', maxSessions: DEFAULT_HOST_SESSIONS, idleExitMs: 0 })
    expect(parseWorkerSettings({ WORKER_MODE: 'host', LINK_ID: LINK, WORKER_MAX_SESSIONS: '7' })).toMatchObject({ maxSessions: 7, idleExitMs: DEFAULT_IDLE_EXIT_MS })
    expect(parseWorkerSettings({ WORKER_MODE: 'host', WORKER_IDLE_EXIT_MS: '0', LINK_ID: LINK }).idleExitMs).toBe(0)
  })

  it('WA_VERSION pins the WhatsApp Web version', () => {
    expect(parseWorkerSettings({ LINK_ID: LINK, WA_VERSION: '2.3000.1012345678' }).waVersion).toEqual([2, 3000, 1012345678])
  })

  it('an empty variable counts as unset', () => {
    expect(parseWorkerSettings({ LINK_ID: LINK, WA_WS_URL: '', WA_QR_TIMEOUT_MS: ' ' })).toMatchObject({ waWebSocketUrl: undefined, qrTimeoutMs: undefined })
  })

  it.each([
    [{ LINK_ID: LINK, WORKER_MAX_SESSIONS: 'many', WORKER_MODE: 'host' }, 'Invalid configuration: WORKER_MAX_SESSIONS: must be a whole number from 1 to 1000'],
    [{ LINK_ID: LINK, WORKER_MAX_SESSIONS: '0', WORKER_MODE: 'host' }, 'Invalid configuration: WORKER_MAX_SESSIONS: must be at least 1'],
    [{ WORKER_MODE: 'link' }, 'Invalid configuration: LINK_ID: is required when WORKER_MODE is "link"'],
    [{ WORKER_MODE: 'hots', LINK_ID: LINK }, 'Invalid configuration: WORKER_MODE: must be "link", "logout" or "host"'],
    [{ LINK_ID: 'x' }, 'Invalid configuration: LINK_ID: must be a link id (lnk_…)'],
    [{ LINK_ID: LINK, WA_VERSION: '2.3000' }, 'Invalid configuration: WA_VERSION: must look like 2.3000.1012345678'],
    [{ LINK_ID: LINK, TABLE_NAME: 'a' }, 'Invalid configuration: TABLE_NAME: must be a DynamoDB table name'],
    [{ LINK_ID: LINK, WA_WS_URL: 'http://x' }, 'Invalid configuration: WA_WS_URL: must be a ws or wss URL'],
    [{ LINK_ID: LINK, WORKER_HEARTBEAT_MS: '1.5' }, 'Invalid configuration: WORKER_HEARTBEAT_MS: must be a whole number (at least 1)'],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => parseWorkerSettings(env)).toThrow(message)
  })
})
