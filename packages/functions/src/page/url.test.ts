import { describe, expect, it } from 'vitest'
import { LINK_PAGE_PATH, linkPageUrl } from './url.ts'

describe('linkPageUrl', () => {
  it('is the page route of the link on the origin that answered, the token in the fragment only', () => {
    const url = new URL(linkPageUrl('https://links.example.com', 'lnk_abc', 'lct_t/k+n='))
    expect(url.origin).toBe('https://links.example.com')
    expect(url.pathname).toBe(LINK_PAGE_PATH.replace(':id', 'lnk_abc'))
    expect(url.search).toBe('')
    expect(new URLSearchParams(url.hash.slice(1)).get('token')).toBe('lct_t/k+n=')
  })
})
