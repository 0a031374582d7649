import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { storeEnvShape } from '../runtime-config.ts'
import { ConfigError, envInt, envLogLevel, envUrl, parseEnv } from './env.ts'

const schema = z.object({ LIMIT: envInt(60), LOG_LEVEL: envLogLevel(), WS: envUrl(['ws', 'wss']), ...storeEnvShape })

describe('parseEnv', () => {
  it('applies defaults for unset and empty variables', () => {
    expect(parseEnv(schema, {})).toMatchObject({ LIMIT: 60, LOG_LEVEL: 'info' })
    expect(parseEnv(schema, {}).WS).toBeUndefined()
    expect(parseEnv(schema, { LIMIT: '', LOG_LEVEL: ' ' })).toMatchObject({ LIMIT: 60, LOG_LEVEL: 'info' })
    expect(parseEnv(schema, { LIMIT: ' 7 ', WS: 'ws://127.0.0.1:1/ws' })).toMatchObject({ LIMIT: 7, WS: 'ws://127.0.0.1:1/ws' })
  })

  it.each([
    [{ LIMIT: '6O' }, 'LIMIT: must be a whole number'],
    [{ LIMIT: '0' }, 'LIMIT: must be at least 1'],
    [{ LIMIT: '-5' }, 'LIMIT: must be a whole number'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL: must be one of'],
    [{ WS: 'http://x' }, 'WS: must be a ws or wss URL'],
    [{ DYNAMODB_ENDPOINT: 'localhost:8000' }, 'DYNAMODB_ENDPOINT: must be a http or https URL'],
    [{ TABLE_NAME: 'a b' }, 'TABLE_NAME: must be a DynamoDB table name'],
  ])('%j → "Invalid configuration: %s…"', (env, message) => {
    expect(() => parseEnv(schema, env)).toThrow(ConfigError)
    expect(() => parseEnv(schema, env)).toThrow(`Invalid configuration: ${message}`)
  })

  it('names every bad variable, and never echoes a secret value', () => {
    const secret = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ='
    let message = ''
    try {
      parseEnv(schema, { LIMIT: 'x', DATA_KEY: secret })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message.split('\n')).toEqual([expect.stringMatching(/^Invalid configuration: LIMIT: /), expect.stringMatching(/^Invalid configuration: DATA_KEY: must be the base64 encoding of exactly 32 bytes$/)])
    expect(message).not.toContain(secret)
  })
})
