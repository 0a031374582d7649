// `@wa-link-broker/core/webhooks`: the events a change of a link makes, their store and retry
// schedule, the per-link dispatcher, the tenants' signing secrets. The local stream reader, which
// only one machine runs, is `@wa-link-broker/core/webhooks/stream-reader`.
export * from './events.ts'
export * from './stream-change.ts'
export * from './stream-handler.ts'
export * from './schedule.ts'
export * from './event-store.ts'
export * from './dispatcher.ts'
export * from './secret-store.ts'
export * from './service.ts'
