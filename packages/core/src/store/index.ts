// `@wa-link-broker/core/store`: the one table (table.ts is its definition), the client, and what the
// domain keeps in it: links, logout requests, each tenant's links in progress, rate counters.
export * from './table.ts'
export * from './client.ts'
export * from './bootstrap.ts'
export * from './link-store.ts'
export * from './link-item.ts'
export * from './link-update.ts'
export type { ListOptions } from './link-list.ts'
export type { IdempotencyRecord } from './idempotency.ts'
export * from './in-progress.ts'
export * from './logout-requests.ts'
export * from './rate-limit.ts'
