import { qrPath } from './qr.ts'
import { timeLeft, type Screen } from './view.ts'

const SVG = 'http://www.w3.org/2000/svg'

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value)
  node.append(...children)
  return node
}

/** The QR as inline SVG built with DOM calls (no innerHTML anywhere on the page). */
export function qrElement(value: string, sequence: number): SVGSVGElement {
  const { size, d } = qrPath(value)
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`)
  svg.setAttribute('class', 'qr')
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-label', 'QR code to scan with WhatsApp')
  svg.setAttribute('shape-rendering', 'crispEdges')
  svg.dataset.sequence = String(sequence)
  const background = document.createElementNS(SVG, 'rect')
  background.setAttribute('width', String(size))
  background.setAttribute('height', String(size))
  background.setAttribute('fill', '#fff')
  const path = document.createElementNS(SVG, 'path')
  path.setAttribute('d', d)
  path.setAttribute('fill', '#000')
  svg.append(background, path)
  return svg
}

function steps(items: string[]): HTMLOListElement {
  return el('ol', { class: 'steps' }, ...items.map((item) => el('li', {}, item)))
}

function countdown(expiresAt: string, label: string, now: number): HTMLParagraphElement {
  const node = el('p', { class: 'expires', 'data-expires-at': expiresAt })
  node.dataset.label = label
  node.textContent = `${label} ${timeLeft(expiresAt, now)}`
  return node
}

/** Updates every countdown on the page to `now` (the API's clock); the caller runs it once a second. */
export function tickCountdowns(root: ParentNode, now: number): void {
  root.querySelectorAll<HTMLElement>('.expires').forEach((node) => {
    node.textContent = `${node.dataset.label} ${timeLeft(node.dataset.expiresAt!, now)}`
  })
}

/** The page's main content for a screen, its countdowns at `now` (the API's clock). */
export function screenElement(screen: Screen, now: number): HTMLElement {
  const section = el('section', { class: `screen screen-${screen.kind}`, 'data-screen': screen.kind })
  switch (screen.kind) {
    case 'loading':
      section.append(el('p', { class: 'muted' }, 'Loading…'))
      break
    case 'no_access':
    case 'preparing':
    case 'pairing':
      section.append(el('h2', {}, screen.title), el('p', { class: 'message' }, screen.message))
      if (screen.kind !== 'no_access') section.append(el('div', { class: 'spinner', 'aria-hidden': 'true' }))
      break
    case 'qr':
      section.append(
        el('h2', {}, screen.title),
        el('div', { class: 'qr-frame' }, qrElement(screen.qr.value, screen.qr.sequence)),
        countdown(screen.qr.expiresAt, 'New code in', now),
        steps(screen.steps),
      )
      break
    case 'code': {
      section.append(el('h2', {}, screen.title), el('p', { class: 'code', 'aria-label': `Code ${screen.code.split('').join(' ')}` }, screen.code), countdown(screen.expiresAt, 'Valid for', now), steps(screen.steps))
      if (screen.qr) {
        section.append(el('details', { class: 'alt' }, el('summary', {}, 'Scan a QR code instead'), el('div', { class: 'qr-frame' }, qrElement(screen.qr.value, screen.qr.sequence))))
      }
      break
    }
    case 'linked':
      section.append(
        el('div', { class: 'badge ok', 'aria-hidden': 'true' }, '✓'),
        el('h2', {}, screen.title),
        el('p', { class: 'account' }, ...(screen.account.name ? [el('strong', {}, screen.account.name), ' '] : []), el('span', { class: 'phone' }, screen.account.phone)),
        el('p', { class: 'message' }, screen.message),
      )
      break
    case 'ended':
      section.append(el('div', { class: 'badge stop', 'aria-hidden': 'true' }, '!'), el('h2', {}, screen.title), el('p', { class: 'message' }, screen.message))
      break
  }
  return section
}
