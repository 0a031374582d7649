// `@wa-link-broker/core/auth-state`: a link's stored WhatsApp credentials, read and erased without
// Baileys. The Baileys-facing auth state a worker runs a socket on is `@wa-link-broker/core/auth-state/baileys`.
export { eraseAuthState } from './erase.ts'
export { exportAuthState, type ExportedAuthState } from './export.ts'
export type { AuthStateStore } from './items.ts'
