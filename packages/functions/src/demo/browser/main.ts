/** The demo page's script: asks the demo backend for a link and embeds its hosted page. */
const form = document.getElementById('start') as HTMLFormElement
const frame = document.getElementById('frame') as HTMLIFrameElement
const placeholder = document.getElementById('placeholder')!
const error = document.getElementById('error')!
const linkIdLabel = document.getElementById('link-id')!
const cancel = document.getElementById('cancel') as HTMLButtonElement
const simulate = document.getElementById('simulate') as HTMLButtonElement | null
let current: string | null = null

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
    })) as { linkId: string; pageUrl: string }
    current = linkId
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
