import type { components } from './generated/openapi.ts'

type Schemas = components['schemas']

/** A link as the API shows it (`GET /v1/links/{id}`). */
export type Link = Schemas['Link']
export type LinkStatus = Link['status']
export type LinkErrorCode = NonNullable<Link['error']>['code']
/** `POST /v1/links`'s body. */
export type CreateLinkInput = Schemas['CreateLinkRequest']
/** `POST /v1/links`'s answer: the link, its client token (shown once) and its hosted page. */
export type CreatedLink = Schemas['CreatedLink']
export type Credentials = Schemas['Credentials']
/** A tenant's brand on the hosted page. */
export type Branding = Schemas['Branding']
export type BrandingInput = Schemas['BrandingRequest']

/** A webhook delivery's body (Standard Webhooks; see verifyWebhook). */
export interface WebhookEvent {
  /** `link.<status>`, `link.qr_updated` or `link.pairing_code_updated`. */
  type: string
  timestamp: string
  data: { link: Link }
}
