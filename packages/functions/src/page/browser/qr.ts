import QRCode from 'qrcode'

/** Modules of white border around the symbol: the QR standard's quiet zone. */
export const QUIET_ZONE = 4

/**
 * A QR value as one SVG path (a `h`-run per row of dark modules), in module units with the quiet
 * zone included: crisp at any size, no canvas, no image request, nothing for the CSP to allow.
 * Error correction L, as the API's own qr.svg: WhatsApp's values are long, and bigger modules scan
 * better off a screen.
 */
export function qrPath(value: string): { size: number; d: string } {
  const { modules } = QRCode.create(value, { errorCorrectionLevel: 'L' })
  const n = modules.size
  let d = ''
  for (let y = 0; y < n; y++) {
    let x = 0
    while (x < n) {
      if (!modules.get(y, x)) {
        x++
        continue
      }
      const start = x
      while (x < n && modules.get(y, x)) x++
      d += `M${start + QUIET_ZONE} ${y + QUIET_ZONE}h${x - start}v1h-${x - start}z`
    }
  }
  return { size: n + 2 * QUIET_ZONE, d }
}
