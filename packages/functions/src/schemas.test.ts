import { describe, expect, it } from 'vitest'
import { brandingBodySchema, brandingOf } from './schemas.ts'

describe('brandingOf', () => {
  it('is the whole brand a PUT sets: what it leaves out is cleared, the colour kept in lower case', () => {
    const body = brandingBodySchema(false).parse({ name: '  Acme CRM ', accentColor: '#0A7CFF', logoUrl: 'https://acme.example/logo.png' })
    expect(brandingOf(body)).toEqual({ name: 'Acme CRM', accentColor: '#0a7cff', logoUrl: 'https://acme.example/logo.png', supportUrl: null })
    expect(brandingOf(brandingBodySchema(false).parse({}))).toEqual({ name: null, accentColor: null, logoUrl: null, supportUrl: null })
  })

  it('takes http://localhost only on one machine', () => {
    expect(brandingBodySchema(true).safeParse({ logoUrl: 'http://localhost:4000/logo.png' }).success).toBe(true)
    expect(brandingBodySchema(false).safeParse({ logoUrl: 'http://localhost:4000/logo.png' }).success).toBe(false)
  })
})
