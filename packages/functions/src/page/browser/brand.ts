import type { Branding } from '@wa-link-broker/client'
import { textOn } from './contrast.ts'
import { isStoredWebUrl } from './stored-url.ts'

export const NEUTRAL_TITLE = 'Link WhatsApp'

export function brandTitle(branding: Pick<Branding, 'name'>): string {
  return branding.name ? `${NEUTRAL_TITLE} to ${branding.name}` : NEUTRAL_TITLE
}

/**
 * Puts the tenant's brand on the page: its name in the title, its colour (through CSS custom
 * properties set from script, which the CSP allows, unlike inline styles), its logo (no referrer;
 * the CSP admits that origin only) and its support link. Without a brand the page stays neutral.
 */
export function applyBrand(branding: Branding, doc: Document = document): void {
  const title = brandTitle(branding)
  doc.getElementById('title')!.textContent = title
  doc.title = title
  if (branding.accentColor) {
    doc.documentElement.style.setProperty('--accent', branding.accentColor)
    doc.documentElement.style.setProperty('--on-accent', textOn(branding.accentColor))
  }
  const logo = doc.getElementById('logo') as HTMLImageElement
  if (branding.logoUrl && isStoredWebUrl(branding.logoUrl)) {
    logo.alt = branding.name ?? ''
    logo.src = branding.logoUrl
    logo.hidden = false
  }
  if (branding.supportUrl && isStoredWebUrl(branding.supportUrl)) {
    ;(doc.getElementById('support-link') as HTMLAnchorElement).href = branding.supportUrl
    doc.getElementById('support')!.hidden = false
  }
}
