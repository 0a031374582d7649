import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { tableDefinition as T } from '../store/table.ts'

/** What the hosted page shows of a tenant: its name, colour, logo and a link for help. */
export interface Branding {
  /** "Link WhatsApp to <name>"; at most BRANDING_LIMITS.name characters. */
  name: string | null
  /** `#RRGGBB`: the page's header and accents; text on it is black or white, whichever reads. */
  accentColor: string | null
  /** https; shown with referrerpolicy=no-referrer, and the page's CSP allows images from its origin only. */
  logoUrl: string | null
  /** https; "Need help?" on the page. */
  supportUrl: string | null
}

export const NO_BRANDING: Branding = { name: null, accentColor: null, logoUrl: null, supportUrl: null }
export const BRANDING_LIMITS = { name: 60 } as const
export const ACCENT_COLOR_PATTERN = /^#[0-9a-fA-F]{6}$/

/** One item a tenant: `BRANDING#<tenant>`. */
const brandingKey = (tenantId: string) => ({ [T.partitionKey]: `BRANDING#${tenantId}`, [T.sortKey]: 'BRANDING' })

/** The tenants' brands. The page of a link shows its own tenant's: the caller reads the link first. */
export class BrandingStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(tenantId: string): Promise<Branding> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: brandingKey(tenantId) }))
    if (!Item) return NO_BRANDING
    return { name: Item.name ?? null, accentColor: Item.accentColor ?? null, logoUrl: Item.logoUrl ?? null, supportUrl: Item.supportUrl ?? null }
  }

  /** Replaces the tenant's brand as a whole (fields left out are cleared). Values are validated at the edge. */
  async put(tenantId: string, branding: Branding): Promise<Branding> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...brandingKey(tenantId), ...branding, updatedAt: new Date().toISOString() } }))
    return branding
  }
}
