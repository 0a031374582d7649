// `@wa-link-broker/core/link`: the link itself, free of I/O: its statuses and how they may change,
// how it ends, its model and deadline, its id, and the limits on links. The use cases (which also
// normalise phone numbers) are `@wa-link-broker/core/link/service`.
export * from './status.ts'
export * from './endings.ts'
export * from './link.ts'
export * from './limits.ts'
export * from '../ids.ts'
