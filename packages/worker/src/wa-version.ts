import type { Logger } from '@wa-link-broker/core/logger'

/**
 * Which WhatsApp Web version a worker announces. The one pinned inside a Baileys release goes
 * stale and WhatsApp then refuses every connection with 405, so each worker resolves it:
 * `WA_VERSION` when set (an operator's pin), else the latest WhatsApp publishes (Baileys'
 * `fetchLatestWaWebVersion()`, used only when it reports `isLatest`), else Baileys' bundled one.
 * The answer is kept for `cacheMs`; `refresh()` (after a 405) asks again at once.
 */
export type WaVersion = [number, number, number]
export type WaVersionSource = 'pinned' | 'latest' | 'bundled'

export interface ResolvedWaVersion {
  version: WaVersion
  source: WaVersionSource
}

/** What `fetchLatestWaWebVersion()` answers. */
export interface LatestWaVersion {
  version: number[]
  isLatest: boolean
  error?: unknown
}

export interface WaVersionOptions {
  /** `WA_VERSION`, already validated with parseWaVersion. */
  pinned?: WaVersion
  /**
   * Where the latest version is read: a page carrying `"client_revision": N` like WhatsApp's
   * service worker (`WA_VERSION_URL`, so tests and air-gapped setups stay offline). Unset: Baileys'
   * own `fetchLatestWaWebVersion()` against web.whatsapp.com.
   */
  sourceUrl?: string
  /** How long a resolved version is reused (a host runs many links). Default 30 minutes. */
  cacheMs?: number
  logger: Logger
  /** Baileys itself; injected so tests need not load it. */
  baileys?: () => Promise<{ fetchLatestWaWebVersion(options?: RequestInit): Promise<LatestWaVersion>; DEFAULT_CONNECTION_CONFIG: { version: number[] } }>
  now?: () => number
}

export const DEFAULT_VERSION_CACHE_MS = 30 * 60_000
const FETCH_TIMEOUT_MS = 5_000

/** `2.3000.1012345678` → [2, 3000, 1012345678]; anything else → null. */
export function parseWaVersion(text: string): WaVersion | null {
  const match = /^(2)\.(3000)\.(\d{1,12})$/.exec(text.trim())
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null
}

export const formatWaVersion = (version: readonly number[]) => version.join('.')

export interface WaVersionResolver {
  /** The version to announce now (cached). */
  resolve(): Promise<ResolvedWaVersion>
  /** Asks the source again, bypassing the cache: after WhatsApp refused the version (405). */
  refresh(): Promise<ResolvedWaVersion>
}

export function createWaVersionResolver(options: WaVersionOptions): WaVersionResolver {
  const cacheMs = options.cacheMs ?? DEFAULT_VERSION_CACHE_MS
  const now = options.now ?? Date.now
  const baileys = options.baileys ?? (() => import('baileys'))
  let cached: { value: Promise<ResolvedWaVersion>; at: number } | undefined

  const lookUp = async (): Promise<ResolvedWaVersion> => {
    if (options.pinned) return { version: options.pinned, source: 'pinned' }
    const { fetchLatestWaWebVersion, DEFAULT_CONNECTION_CONFIG } = await baileys()
    const latest = options.sourceUrl
      ? await fetchFromUrl(options.sourceUrl)
      : await fetchLatestWaWebVersion({ signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
    const version = latest.isLatest ? toWaVersion(latest.version) : null
    if (version) return { version, source: 'latest' }
    // One line, no stack: offline (a first run without network, a test) this is said on every start.
    options.logger.warn({ reason: reasonOf(latest.error), source: options.sourceUrl ?? 'web.whatsapp.com' }, 'could not read the latest WhatsApp Web version; using the one bundled with Baileys')
    return { version: toWaVersion(DEFAULT_CONNECTION_CONFIG.version)!, source: 'bundled' }
  }

  const load = () => {
    const value = lookUp().then((resolved) => {
      options.logger.info({ waVersion: formatWaVersion(resolved.version), source: resolved.source }, 'WhatsApp Web version')
      return resolved
    })
    cached = { value, at: now() }
    // A failure is not kept: the next call tries again.
    value.catch(() => (cached = undefined))
    return value
  }

  return {
    resolve: () => (cached && now() - cached.at < cacheMs ? cached.value : load()),
    refresh: load,
  }
}

function toWaVersion(version: number[]): WaVersion | null {
  return version.length === 3 && version.every((part) => Number.isSafeInteger(part) && part >= 0) ? [version[0], version[1], version[2]] : null
}

/** The same reading Baileys' fetchLatestWaWebVersion does, against another address. */
async function fetchFromUrl(url: string): Promise<LatestWaVersion> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
    if (!response.ok) throw new Error(`${url} answered ${response.status}`)
    const revision = /\\?"client_revision\\?":\s*(\d+)/.exec(await response.text())?.[1]
    if (!revision) throw new Error(`no client_revision in ${url}`)
    return { version: [2, 3000, Number(revision)], isLatest: true }
  } catch (error) {
    return { version: [], isLatest: false, error }
  }
}

/** Why a lookup failed, in a line: the error's message (fetch's own names the DNS or HTTP failure). */
function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error.cause as { code?: unknown } | undefined)?.code
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message
  }
  return error === undefined ? 'no version in the answer' : String(error)
}
