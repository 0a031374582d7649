import { describe, expect, it } from 'vitest'
import jsQRModule from 'jsqr'
import { QUIET_ZONE } from '../../qr-code.ts'
import { qrPath } from './qr.ts'

const jsQR = jsQRModule as unknown as typeof jsQRModule.default

/** Rasterises the path's runs (`M x y h w v1 h-w z`) at `scale` pixels a module, as RGBA. */
function raster(size: number, d: string, scale = 4) {
  const px = size * scale
  const rgba = new Uint8ClampedArray(px * px * 4).fill(255)
  for (const [, x, y, w] of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
    for (let row = Number(y) * scale; row < (Number(y) + 1) * scale; row++) {
      for (let col = Number(x) * scale; col < (Number(x) + Number(w)) * scale; col++) rgba.fill(0, (row * px + col) * 4, (row * px + col) * 4 + 3)
    }
  }
  return { rgba, px }
}

describe('qrPath', () => {
  it('draws a symbol that decodes back to the value, inside its quiet zone', () => {
    const value = 'https://wa.me/settings/linked_devices#2@abcDEF123+/=,noiseKeyBase64xxxxxxxxxxxxxxxxxxxxxxx=,identityKeyBase64yyyyyyyyyyyyyyyyyyyy=,advSecretzzzzzzzzzzzz=,1'
    const { size, d } = qrPath(value)
    const { rgba, px } = raster(size, d)
    expect(jsQR(rgba, px, px)?.data).toBe(value)
    const xs = [...d.matchAll(/M(\d+) (\d+)/g)].flatMap(([, x, y]) => [Number(x), Number(y)])
    expect(Math.min(...xs)).toBe(QUIET_ZONE)
    expect(Math.max(...xs)).toBeLessThan(size - QUIET_ZONE)
  })
})
