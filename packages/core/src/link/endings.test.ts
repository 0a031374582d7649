import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { endingStatus, isLinkEndingCode, LINK_ENDING_CODES, LINK_ENDINGS, linkEnding } from './endings.ts'
import { canTransition, LINK_STATUSES } from './status.ts'

describe('link endings', () => {
  it('every ending leaves the link in a status some in-progress or linked status may move to', () => {
    for (const code of LINK_ENDING_CODES) {
      const status = endingStatus(code)
      expect(LINK_STATUSES.some((from) => canTransition(from, status)), code).toBe(true)
    }
  })

  it('builds the error with an optional detail, never another code', () => {
    expect(linkEnding('deadline')).toEqual({ code: 'deadline', message: LINK_ENDINGS.deadline.message })
    expect(linkEnding('launch_failed', 'ECS said no.').message).toBe(`${LINK_ENDINGS.launch_failed.message} ECS said no.`)
    expect(isLinkEndingCode('deadline')).toBe(true)
    expect(isLinkEndingCode('toString')).toBe(false)
    expect(isLinkEndingCode(42)).toBe(false)
  })

  it('docs/api.md lists exactly these codes, statuses and words', () => {
    const doc = readFileSync(new URL('../../../../docs/api.md', import.meta.url), 'utf8')
    const block = /<!-- endings:start -->\n([\s\S]*?)\n<!-- endings:end -->/.exec(doc)?.[1]
    expect(block, 'docs/api.md has an endings block').toBeDefined()
    const expected = [
      '| code | status | `error.message` (for developers) | what the hosted page and the SDK show |',
      '|---|---|---|---|',
      ...Object.entries(LINK_ENDINGS).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.message} | ${e.userMessage} |`),
    ].join('\n')
    expect(block).toBe(expected)
  })
})
