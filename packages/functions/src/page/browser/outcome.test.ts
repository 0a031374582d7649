import { describe, expect, it } from 'vitest'
import type { Link } from '@wa-link-broker/client'
import { messageTarget, returnUrl } from './outcome.ts'

const base = { id: 'lnk_1', error: null, redirectUrl: 'https://app.example.com/back?tab=wa#top', pollAfterMs: null } as const

describe('returnUrl', () => {
  it('adds link_id and status to the redirect URL’s own query, and error for a failure', () => {
    expect(returnUrl({ ...base, status: 'linked' })).toBe('https://app.example.com/back?tab=wa&link_id=lnk_1&status=linked#top')
    expect(returnUrl({ ...base, status: 'failed', error: { code: 'logged_out', message: 'm' } })).toBe('https://app.example.com/back?tab=wa&link_id=lnk_1&status=failed&error=logged_out#top')
  })

  it('overrides parameters of the same name rather than letting them through', () => {
    const url = new URL(returnUrl({ ...base, redirectUrl: 'https://app.example.com/b?status=linked&error=none', status: 'expired', error: { code: 'deadline', message: 'm' } })!)
    expect(url.searchParams.getAll('status')).toEqual(['expired'])
    expect(url.searchParams.getAll('error')).toEqual(['deadline'])
  })

  it('is null while the link is in progress or without a redirectUrl', () => {
    expect(returnUrl({ ...base, status: 'awaiting_scan', pollAfterMs: 1000 })).toBeNull()
    expect(returnUrl({ ...base, status: 'linked', redirectUrl: null })).toBeNull()
  })
})

describe('messageTarget', () => {
  it('is the redirect URL’s origin, or any parent without one', () => {
    expect(messageTarget({ redirectUrl: 'https://app.example.com/back?x=1' } as Link)).toBe('https://app.example.com')
    expect(messageTarget({ redirectUrl: null } as Link)).toBe('*')
  })
})
