// `@wa-link-broker/core/crypto`: the envelope (AES-256-GCM) and the key providers that wrap its data keys.
export * from './envelope.ts'
export * from './key-provider.ts'
export * from './select-key-provider.ts'
