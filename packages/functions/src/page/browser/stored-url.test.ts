import { describe, expect, it } from 'vitest'
import { isStoredWebUrl } from './stored-url.ts'

describe('isStoredWebUrl', () => {
  it.each(['https://acme.example/logo.png', 'http://localhost:3000/demo/return', 'http://127.0.0.1:8080/logo.svg'])('uses %s', (url) => {
    expect(isStoredWebUrl(url)).toBe(true)
  })

  it.each(['javascript:alert(1)', 'data:image/svg+xml,<svg/>', '/relative', 'http://acme.example/logo.png', 'https://user:pw@acme.example/', 'https://acme.example/a b'])('never uses %s', (url) => {
    expect(isStoredWebUrl(url)).toBe(false)
  })
})
