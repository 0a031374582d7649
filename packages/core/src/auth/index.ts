// `@wa-link-broker/core/auth`: tenant API keys and link client tokens (only their hashes are stored).
export * from './api-keys.ts'
export * from './client-token.ts'
