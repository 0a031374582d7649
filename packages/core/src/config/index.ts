// `@wa-link-broker/core/config`: what every process's configuration module builds on: the zod
// helpers and the store variables (env.ts), and where the table, the worker task and the key are (SST links or plain variables).
export * from './env.ts'
export * from '../runtime-config.ts'
