import { z } from '@hono/zod-openapi'
import { ACCENT_COLOR_PATTERN, type Branding, BRANDING_LIMITS } from '@wa-link-broker/core/branding'
import { LINK_ENDING_CODES, LINK_ID_PATTERN, LINK_STATUSES, MAX_TTL_SECONDS, MIN_TTL_SECONDS } from '@wa-link-broker/core/link'
import { MAX_URL_LENGTH, webUrlProblem } from '@wa-link-broker/core/web-url'
import { nestsDeeperThan } from './json-depth.ts'
import { webhookUrlProblem } from './webhooks/url.ts'

export const MAX_METADATA_BYTES = 2048
/** Checked before anything serialises the value: a deeper one would overflow the stack. */
export const MAX_METADATA_DEPTH = 32

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'invalid_input' }),
      message: z.string(),
      field: z.string().optional().openapi({ description: 'The offending input field, for 400s.' }),
    }),
  })
  .openapi('Error')

const iso = z.string().openapi({ format: 'date-time' })

export const LinkSchema = z
  .object({
    id: z.string().openapi({ example: 'lnk_8v3k0q2m9x7c4b1n6h5j0r2t8w' }),
    status: z.enum(LINK_STATUSES),
    method: z.enum(['qr', 'code']),
    phoneNumber: z.string().nullable().openapi({ example: '12345678901' }),
    qr: z
      .object({ value: z.string(), sequence: z.number().int(), expiresAt: iso, imageUrl: z.string() })
      .nullable()
      .openapi({ description: 'The QR to show now; null when there is none or it has expired.' }),
    pairingCode: z.object({ code: z.string().openapi({ example: 'ABCD-1234' }), expiresAt: iso }).nullable(),
    account: z.object({ jid: z.string(), phoneNumber: z.string(), name: z.string().nullable(), platform: z.string().nullable() }).nullable(),
    error: z
      .object({ code: z.enum(LINK_ENDING_CODES), message: z.string() })
      .nullable()
      .openapi({ description: 'Why the link ended (see docs/api.md for every code and the words to show a person).' }),
    metadata: z.record(z.string(), z.unknown()),
    redirectUrl: z.string().nullable().openapi({ description: 'Where the hosted page sends the person once the link is done (set at create time).' }),
    createdAt: iso,
    updatedAt: iso,
    expiresAt: iso,
    pollAfterMs: z.number().int().nullable().openapi({ description: 'When to poll again; null once the status will not change by itself.' }),
    relinkOf: z.string().nullable().openapi({ description: 'The link this one was started over for (POST with `relinkOf`).' }),
    relinkedTo: z.string().nullable().openapi({ description: 'The link that was started over for this one.' }),
  })
  .openapi('Link')

/**
 * A URL the hosted page sends a person to or loads from: https (http://localhost too on one
 * machine), no user-info, at most 2,048 characters; core's webUrlProblem is the one rule.
 */
export const webUrl = (local: boolean) =>
  z
    .string()
    .max(MAX_URL_LENGTH)
    .superRefine((value, ctx) => {
      const problem = webUrlProblem(value, { local })
      if (problem) ctx.addIssue({ code: 'custom', message: problem })
    })

/** The create body; `local` (AppDeps.local) decides whether http://localhost redirects are allowed. */
export const createLinkBodySchema = (local: boolean) => z
  .strictObject({
    method: z.enum(['qr', 'code']).optional().openapi({ description: 'Default "qr".' }),
    phoneNumber: z.string().min(1).max(40).optional().openapi({ description: 'Required for "code". Any common format with country code.', example: '+1 (234) 567-8901' }),
    webhookUrl: z
      .string()
      .max(MAX_URL_LENGTH)
      .superRefine((value, ctx) => {
        const problem = webhookUrlProblem(value, { local })
        if (problem) ctx.addIssue({ code: 'custom', message: problem })
      })
      .optional()
      .openapi({
        description:
          "Where to POST the link's events, signed per Standard Webhooks (see docs/api.md). `https://` with a public domain name; `http://`, IP addresses and private hosts only when running locally (`npm start`).",
        example: 'https://app.example.com/hooks/whatsapp',
      }),
    metadata: z
      .record(z.string().max(64), z.unknown())
      .refine((value) => !nestsDeeperThan(value, MAX_METADATA_DEPTH), { message: `must nest at most ${MAX_METADATA_DEPTH} levels deep`, abort: true })
      .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= MAX_METADATA_BYTES, `must be at most ${MAX_METADATA_BYTES} bytes as JSON`)
      .optional(),
    relinkOf: z.string().regex(LINK_ID_PATTERN, 'must be a link id (lnk_…)').optional().openapi({ description: 'Start over for this link (unlinked, or linked with its device logged out): the new link takes its method, phone number and metadata unless given here; the old one gets `relinkedTo`. A linked one is logged out first.' }),
    ttlSeconds: z.int().min(MIN_TTL_SECONDS).max(MAX_TTL_SECONDS).optional().openapi({ description: 'How long the link may take before it expires. Default 300.' }),
    redirectUrl: webUrl(local)
      .optional()
      .openapi({
        description:
          'https. When the link is done the hosted page sends the person here, adding `link_id`, `status` and, for a failure, `error` to its query. Never carries the token.',
        example: 'https://app.example.com/whatsapp/done',
      }),
  })
  .openapi('CreateLinkRequest')

export const CreatedLinkSchema = z
  .object({
    link: LinkSchema,
    clientToken: z.string().openapi({ description: 'Read-only token for this one link; shown once.' }),
    pageUrl: z.url().openapi({
      description: 'The hosted link page for this link, with the client token in its fragment (`…/link/lnk_…#token=lct_…`): send the user there or embed it.',
    }),
  })
  .openapi('CreatedLink')

const brandName = z
  .string()
  .trim()
  .min(1)
  .max(BRANDING_LIMITS.name)
  // Shown to people in a heading: no control or invisible formatting characters.
  .regex(/^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u, 'must be plain text (no control characters)')
  .openapi({ description: '"Link WhatsApp to <name>".', example: 'Acme CRM' })
const accentColor = z.string().regex(ACCENT_COLOR_PATTERN, 'must be a colour as #RRGGBB').openapi({ description: 'Header and accents; text on it is black or white, whichever reads.', example: '#0a7cff' })

export const BrandingSchema = z
  .object({ name: brandName.nullable(), accentColor: accentColor.nullable(), logoUrl: z.string().nullable(), supportUrl: z.string().nullable() })
  .openapi('Branding')

/** PUT replaces the whole brand: a field left out (or null) is cleared. */
export const brandingBodySchema = (local: boolean) =>
  z
    .strictObject({
      name: brandName.nullable().optional(),
      accentColor: accentColor.nullable().optional(),
      logoUrl: webUrl(local).nullable().optional().openapi({ description: 'https. Shown with referrerpolicy=no-referrer; the page allows images from this origin only.' }),
      supportUrl: webUrl(local).nullable().optional().openapi({ description: 'https. "Need help?" on the page.' }),
    })
    .openapi('BrandingRequest')

/** The brand a PUT body sets: what it leaves out is cleared; a colour is kept in lower case. */
export function brandingOf(body: z.output<ReturnType<typeof brandingBodySchema>>): Branding {
  return { name: body.name ?? null, accentColor: body.accentColor?.toLowerCase() ?? null, logoUrl: body.logoUrl ?? null, supportUrl: body.supportUrl ?? null }
}

export const PairingCodeBodySchema = z
  .strictObject({ phoneNumber: z.string().min(1).max(40).openapi({ description: 'Any common format with country code.', example: '+1 (234) 567-8901' }) })
  .openapi('PairingCodeRequest')

export const CredentialsSchema = z
  .object({
    linkId: z.string(),
    account: LinkSchema.shape.account,
    creds: z.record(z.string(), z.unknown()).openapi({ description: "Baileys `AuthenticationCreds` in `BufferJSON` form: revive with `JSON.parse(JSON.stringify(x), BufferJSON.reviver)`." }),
    keys: z.record(z.string(), z.record(z.string(), z.unknown())).openapi({ description: 'Signal keys by type, then id, in `BufferJSON` form.' }),
  })
  .openapi('Credentials')

export const LinkListSchema = z.object({ links: z.array(LinkSchema), nextCursor: z.string().nullable() }).openapi('LinkList')

export const LinkIdParamSchema = z.object({ id: z.string().max(64).openapi({ param: { name: 'id', in: 'path' } }) })

export const ListQuerySchema = z.object({
  status: z.enum(LINK_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
})

export const IdempotencyHeaderSchema = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 visible ASCII characters')
    .optional()
    .openapi({ param: { name: 'idempotency-key', in: 'header', description: 'Idempotency-Key: a replay with the same body returns the same link.' } }),
})

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [status, { description: ERROR_DESCRIPTIONS[status] ?? 'Error', content: { 'application/json': { schema: ErrorSchema } } }]),
  )

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `error.field` names the field.',
  401: 'Missing or invalid credentials.',
  404: 'Unknown link, or a link of another tenant.',
  409: 'The link is not in a state that allows this.',
  503: 'A worker could not be started; retry.',
  413: 'Body over 64 KB.',
  415: 'Body is not application/json.',
  422: 'Idempotency-Key reused with a different body.',
  429: 'Rate limited; see Retry-After.',
}
