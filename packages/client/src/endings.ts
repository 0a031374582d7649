import { LINK_ENDINGS } from './generated/endings.ts'
import type { Link, LinkErrorCode } from './types.ts'

/**
 * The plain words for a person of why a link ended (`link.error.code`): what the hosted page shows,
 * for apps that draw their own screen. `null` for a link without an error.
 */
export function endingMessage(error: Link['error'] | LinkErrorCode | null | undefined): string | null {
  const code = typeof error === 'string' ? error : error?.code
  if (!code) return null
  return (LINK_ENDINGS as Record<string, { userMessage: string }>)[code]?.userMessage ?? null
}
