import QRCode from 'qrcode'
import { ERROR_CORRECTION, QUIET_ZONE } from '../../qr-code.ts'

/**
 * A QR value as one SVG path (a `h`-run per row of dark modules), in module units with the quiet
 * zone included: crisp at any size, no canvas, no image request, nothing for the CSP to allow.
 */
export function qrPath(value: string): { size: number; d: string } {
  const { modules } = QRCode.create(value, { errorCorrectionLevel: ERROR_CORRECTION })
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
