import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { contrastRatio, textOn } from './contrast.ts'

const hex = fc.integer({ min: 0, max: 0xffffff }).map((n) => `#${n.toString(16).padStart(6, '0')}`)

describe('text on the accent colour', () => {
  it('matches WCAG’s reference ratios', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5)
    expect(contrastRatio('#777777', '#ffffff')).toBeCloseTo(4.48, 2)
  })

  it('is black or white, whichever reads, at 4.5:1 or better for every colour', () => {
    expect(textOn('#ffffff')).toBe('#000000')
    expect(textOn('#000000')).toBe('#ffffff')
    expect(textOn('#ffd400')).toBe('#000000')
    expect(textOn('#0a3d91')).toBe('#ffffff')
    fc.assert(fc.property(hex, (background) => contrastRatio(background, textOn(background)) >= 4.5), { numRuns: 5000 })
  })
})
