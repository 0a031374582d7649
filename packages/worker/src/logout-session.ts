import type { ConnectionState } from 'baileys'
import { linkEnding, NotFoundError, StaleLinkError, type LinkStore, type Logger } from '@wa-link-broker/core'
import type { WorkerSettings } from './config.ts'
import { closeReason, judgeClose } from './disconnect.ts'
import type { AuthStateHandle, SessionOutcome } from './link-session.ts'
import { openSocket } from './socket.ts'
import type { WaVersionResolver } from './wa-version.ts'

export interface LogoutDeps {
  store: LinkStore
  openAuthState(linkId: string): Promise<AuthStateHandle>
  logger: Logger
  settings: WorkerSettings
  waVersion: WaVersionResolver
}

/**
 * Logs a linked device out of WhatsApp, erases its credentials and marks the link `unlinked`.
 * The credentials are erased even when WhatsApp cannot be reached: the tenant asked for them gone.
 */
export async function runLogout({ store, openAuthState, logger, settings, waVersion }: LogoutDeps): Promise<SessionOutcome> {
  let link
  try {
    link = await store.claim(settings.linkId, ['linked'])
  } catch (error) {
    if (error instanceof StaleLinkError || error instanceof NotFoundError) {
      logger.warn('link is not linked: nothing to log out')
      return { status: error instanceof StaleLinkError ? error.current.status : 'unlinked', note: 'not_linked' }
    }
    throw error
  }
  const auth = await openAuthState(settings.linkId)
  const confirmed = auth.state.creds.me ? await logOut(auth, settings, logger, waVersion) : true
  await auth.clear()
  try {
    await store.update(settings.linkId, {
      from: ['linked'],
      to: 'unlinked',
      fence: link.leaseToken,
      patch: { error: confirmed ? null : linkEnding('logout_unconfirmed') },
    })
  } catch (error) {
    if (!(error instanceof StaleLinkError)) throw error
  }
  logger.info({ confirmed }, 'unlinked')
  return { status: 'unlinked' }
}

/** Connects with the stored credentials and logs out; true once WhatsApp has confirmed it. */
async function logOut(auth: AuthStateHandle, settings: WorkerSettings, logger: Logger, waVersion: WaVersionResolver): Promise<boolean> {
  for (let attempt = 0; attempt <= settings.maxReconnects; attempt++) {
    const { version } = await waVersion.resolve()
    let closed!: (result: 'done' | 'retry') => void
    const outcome = new Promise<'done' | 'retry'>((resolve) => (closed = resolve))
    const sock = await openSocket(auth.state, settings, logger, {
      onCredsUpdate: () => void auth.saveCreds(),
      onConnectionUpdate: (update: Partial<ConnectionState>) => {
        if (update.connection === 'open') void sock.logout().catch(() => undefined)
        // A logout (ours, or one already done from the phone) closes with 401.
        if (update.connection === 'close') closed(judgeClose(closeReason(update.lastDisconnect?.error)).kind === 'logged_out' ? 'done' : 'retry')
      },
    }, version)
    const timer = setTimeout(() => {
      sock.end(undefined)
      closed('retry')
    }, settings.logoutTimeoutMs)
    const result = await outcome
    clearTimeout(timer)
    if (result === 'done') return true
    await new Promise((r) => setTimeout(r, Math.min(4000, 250 * 2 ** attempt)))
  }
  return false
}
