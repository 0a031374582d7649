import { describe, expect, it } from 'vitest'
import { webUrlProblem } from './web-url.ts'

describe('webUrlProblem', () => {
  it('accepts absolute https URLs, with their own query and fragment', () => {
    for (const url of ['https://app.example.com/return', 'https://app.example.com/r?x=1#done', 'https://xn--bcher-kva.example/']) {
      expect(webUrlProblem(url, { local: false })).toBeNull()
    }
  })

  it('refuses other schemes, relative URLs, user-info and overlong URLs', () => {
    for (const url of ['javascript:alert(1)', 'data:text/html,hi', '/return', '//evil.example/x', 'return', 'ftp://x.example/', 'http://app.example.com/', 'https://user:pw@app.example.com/', 'https://user@app.example.com/', `https://a.example/${'x'.repeat(2048)}`, 'JaVaScRiPt:alert(1)', ' https://a.example/']) {
      expect(webUrlProblem(url, { local: false }), url).not.toBeNull()
    }
  })

  it('allows http://localhost and 127.0.0.1 only on one machine', () => {
    for (const url of ['http://localhost:5173/back', 'http://127.0.0.1:8080/']) {
      expect(webUrlProblem(url, { local: true })).toBeNull()
      expect(webUrlProblem(url, { local: false })).not.toBeNull()
    }
    expect(webUrlProblem('http://192.168.1.2/', { local: true })).not.toBeNull()
    expect(webUrlProblem('http://localhost.evil.example/', { local: true })).not.toBeNull()
  })
})
