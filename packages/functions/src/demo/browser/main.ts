import { onLinkPageMessage } from '@wa-link-broker/client'

/** The demo page's script: asks the demo backend for a link, embeds its hosted page, logs its messages. */
const form = document.getElementById('start') as HTMLFormElement
const frame = document.getElementById('frame') as HTMLIFrameElement
const placeholder = document.getElementById('placeholder')!
const error = document.getElementById('error')!
const linkIdLabel = document.getElementById('link-id')!
const cancel = document.getElementById('cancel') as HTMLButtonElement
const simulate = document.getElementById('simulate') as HTMLButtonElement | null
const redirect = document.getElementById('redirect') as HTMLInputElement
const messages = document.getElementById('messages')!
const openRow = document.getElementById('open-row')!
const open = document.getElementById('open') as HTMLAnchorElement
let current: string | null = null
redirect.value = `${location.origin}/demo/return`

// What an embedding app does instead of polling: listen to the framed page.
onLinkPageMessage(
  (message) => {
    const item = document.createElement('li')
    item.textContent = `${message.status}${message.error ? ` (${message.error})` : ''}`
    messages.append(item)
  },
  { origin: location.origin },
)

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  const json = (await res.json()) as Record<string, unknown> & { error?: { message: string } }
  if (!res.ok) throw new Error(json.error?.message ?? `HTTP ${res.status}`)
  return json
}

form.addEventListener('submit', async (event) => {
  event.preventDefault()
  error.textContent = ''
  const data = new FormData(form)
  try {
    const { linkId, pageUrl } = (await post('/demo/links', {
      method: data.get('method'),
      ...(data.get('phoneNumber') ? { phoneNumber: data.get('phoneNumber') } : {}),
      ...(data.get('redirectUrl') ? { redirectUrl: data.get('redirectUrl') } : {}),
    })) as { linkId: string; pageUrl: string }
    current = linkId
    messages.replaceChildren()
    open.href = pageUrl
    openRow.hidden = false
    linkIdLabel.textContent = linkId
    frame.src = pageUrl
    frame.hidden = false
    placeholder.hidden = true
    cancel.disabled = false
    if (simulate) simulate.disabled = false
  } catch (e) {
    error.textContent = (e as Error).message
  }
})

cancel.addEventListener('click', async () => {
  if (!current) return
  try {
    await post(`/demo/links/${encodeURIComponent(current)}/cancel`, {})
  } catch (e) {
    error.textContent = (e as Error).message
  }
})

simulate?.addEventListener('click', async () => {
  if (!current) return
  error.textContent = ''
  try {
    await post(`/demo/links/${encodeURIComponent(current)}/simulate`, {})
  } catch (e) {
    error.textContent = (e as Error).message
  }
})

document.getElementById('brand')!.addEventListener('click', async () => {
  error.textContent = ''
  const data = new FormData(form)
  const value = (name: string) => (data.get(name) as string).trim() || null
  try {
    await post('/demo/branding', { name: value('brandName'), accentColor: value('brandColor'), logoUrl: value('brandLogo'), supportUrl: value('brandSupport') })
    // Reload the framed page to show it (same origin; setting the same src with a fragment would not reload).
    frame.contentWindow?.location.reload()
  } catch (e) {
    error.textContent = (e as Error).message
  }
})
