// `@wa-link-broker/core/hosts`: worker hosts: when a link may be taken over, the registry, and the dispatcher.
export * from './policy.ts'
export * from './host-registry.ts'
export * from './dispatch.ts'
