import { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from './deps.ts'
import { validationFailed } from './errors.ts'

/** A route module's app: every schema failure becomes the contract's 400 naming the field. */
export function newRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: (result, c) => (result.success ? undefined : validationFailed(c, result.error, result.target)) })
}

/** Every /v1 route takes `Authorization: Bearer <API key or client token>` (the `bearer` scheme). */
export const bearerSecurity = [{ bearer: [] }]
