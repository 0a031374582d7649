/**
 * How every QR this service draws is made, the API's images (routes/qr.ts) and the hosted page's
 * inline SVG (page/browser/qr.ts) alike. Browser-safe: the page's bundle imports it.
 */

/** WhatsApp's values are long, and bigger modules scan better off a screen. */
export const ERROR_CORRECTION = 'L'

/** Modules of white border around the symbol: the QR standard's quiet zone. */
export const QUIET_ZONE = 4
