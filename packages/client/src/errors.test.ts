import { describe, expect, it } from 'vitest'
import { errorFromResponse, LinkBrokerError, RateLimitedError, retryAfterSeconds, ValidationError } from './errors.ts'

describe('errorFromResponse', () => {
  it('keeps code, message and field, and picks the class for the status', async () => {
    const error = await errorFromResponse(new Response(JSON.stringify({ error: { code: 'invalid_input', message: 'phoneNumber: bad', field: 'phoneNumber' } }), { status: 400 }))
    expect(error).toBeInstanceOf(ValidationError)
    expect(error).toMatchObject({ status: 400, code: 'invalid_input', message: 'phoneNumber: bad', field: 'phoneNumber' })
  })

  it('reads Retry-After on a 429', async () => {
    const error = await errorFromResponse(new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'slow down' } }), { status: 429, headers: { 'retry-after': '17' } }))
    expect(error).toBeInstanceOf(RateLimitedError)
    expect((error as RateLimitedError).retryAfter).toBe(17)
  })

  it('copes with a body that is not the API error shape', async () => {
    const error = await errorFromResponse(new Response('<html>bad gateway</html>', { status: 502 }))
    expect(error).toBeInstanceOf(LinkBrokerError)
    expect(error).toMatchObject({ status: 502, code: 'http_502' })
  })

  it('understands both forms of Retry-After', () => {
    expect(retryAfterSeconds('5')).toBe(5)
    expect(retryAfterSeconds(new Date(10_000 + 30_000).toUTCString(), 10_000)).toBe(30)
    expect(retryAfterSeconds(null)).toBe(1)
  })
})
