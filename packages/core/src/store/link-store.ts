import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import { unmarshall } from '@aws-sdk/util-dynamodb'
import { eraseAuthState } from '../auth-state/erase.ts'
import { ConflictError, NotFoundError } from '../errors.ts'
import type { Link, LinkViewSource } from '../link/link.ts'
import type { LinkStatus } from '../link/status.ts'
import { cancellationCodes, isConditionalCheckFailed, transactWrite, type TransactItems } from './client.ts'
import { findIdempotency, idempotencyPut, type IdempotencyRecord } from './idempotency.ts'
import { InProgressLinks } from './in-progress.ts'
import { linksActiveBefore } from './link-activity.ts'
import { linkFromItem, linkKey, toItem } from './link-item.ts'
import { listTenantLinks, type ListOptions } from './link-list.ts'
import { heartbeatWrite, linkUpdateWrite, statusIn, type ConditionalWrite, type LinkPatch, type LinkUpdate } from './link-update.ts'
import { tableDefinition as T } from './table.ts'

export interface ClaimOptions {
  workerId?: string
  version?: number
  /** The heartbeat the taker read (heartbeats do not move `version`). */
  heartbeatAt?: string | null
  patch?: LinkPatch
}

/** Conditional writes taken with a create, all or none; `refusal` gets the indexes (into `items`) that refused. */
export interface CreateGuard {
  items: TransactItems
  refusal(refused: number[]): Error
}

export interface CreateOptions {
  idempotency?: IdempotencyRecord
  /** For a relink: the statuses the old link may be in. */
  relinkableFrom?: readonly LinkStatus[]
  guards?: CreateGuard[]
}

/**
 * The links in the table: every read and every conditional write of a link item. How an item looks
 * is link-item.ts; how a change becomes a conditional write, link-update.ts; listing, link-list.ts;
 * the sweepers' index reading, link-activity.ts.
 */
export class LinkStore {
  /** Each tenant's set of links in progress, for the cap on them (see InProgressLinks). */
  readonly inProgress: InProgressLinks

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.inProgress = new InProgressLinks(doc, tableName)
  }

  /**
   * Stores a new link, and in the same transaction (all are written or none): its idempotency
   * record; for a relink (`link.relinkOf`, which must still be in one of `relinkableFrom` and not
   * relinked yet) the old link's pointer to the new one; and the caller's guards — conditional
   * writes such as rate counters and the in-progress reservation, each group of which throws its
   * own error when one of its conditions refuses.
   */
  async create(link: Link, options: CreateOptions = {}): Promise<{ created: true } | { created: false; linkId: string; requestHash: string }> {
    const { idempotency, relinkableFrom = [], guards = [] } = options
    const now = new Date()
    const putLink = { TableName: this.tableName, Item: toItem(link, now), ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': T.partitionKey } }
    const items: TransactItems = [{ Put: putLink }]
    if (idempotency) items.push(idempotencyPut(this.tableName, link.tenantId, link.id, idempotency, now))
    const relinkAt = items.length
    if (link.relinkOf) {
      const values: Record<string, unknown> = { ':new': link.id, ':one': 1, ':now': now.toISOString(), ':tenant': link.tenantId, ':null': null }
      items.push({
        Update: {
          TableName: this.tableName,
          Key: linkKey(link.relinkOf),
          UpdateExpression: 'SET #relinkedTo = :new, #version = #version + :one, #updatedAt = :now',
          ConditionExpression: `attribute_exists(#pk) AND #tenant = :tenant AND ${statusIn(relinkableFrom, values, 'from')} AND (attribute_not_exists(#relinkedTo) OR #relinkedTo = :null)`,
          ExpressionAttributeNames: { '#pk': T.partitionKey, '#relinkedTo': 'relinkedTo', '#version': 'version', '#updatedAt': 'updatedAt', '#tenant': 'tenantId', '#status': 'status' },
          ExpressionAttributeValues: values,
        },
      })
    }
    const guardAt = guards.map((guard) => {
      const at = items.length
      items.push(...guard.items)
      return at
    })
    if (items.length === 1) {
      await this.doc.send(new PutCommand(putLink))
      return { created: true }
    }
    try {
      await transactWrite(this.doc, items)
      return { created: true }
    } catch (error) {
      const codes = cancellationCodes(error)
      if (!codes) throw error
      if (idempotency) {
        const existing = await this.findIdempotency(link.tenantId, idempotency.key)
        if (existing) return { created: false, ...existing }
      }
      const refused = (i: number) => codes[i] === 'ConditionalCheckFailed'
      if (link.relinkOf && refused(relinkAt)) throw new ConflictError('not_relinkable', 'The link was relinked or changed meanwhile; read it and try again.')
      guards.forEach((guard, g) => {
        const indexes = guard.items.map((_, i) => i).filter((i) => refused(guardAt[g] + i))
        if (indexes.length > 0) throw guard.refusal(indexes)
      })
      throw error
    }
  }

  findIdempotency(tenantId: string, key: string): Promise<{ linkId: string; requestHash: string } | null> {
    return findIdempotency(this.doc, this.tableName, tenantId, key)
  }

  async get(id: string): Promise<Link | null> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: linkKey(id), ConsistentRead: true }))
    return res.Item ? linkFromItem(res.Item) : null
  }

  /**
   * The one way a link changes. A conditional write guards it: the status must still be one of
   * `from` (and the lease and version as given), so of two racing writers exactly one wins; the
   * loser gets a ConflictError carrying the link as it now is.
   */
  async update(id: string, update: LinkUpdate): Promise<Link> {
    return this.conditionalUpdate(id, linkUpdateWrite(update, new Date()))
  }

  /**
   * A worker's sign of life: moves the link within the activity index and nothing else. It is not a
   * visible change (no `version`, no `updatedAt`, so a poller's ETag holds) and it rewrites no
   * other index. Conditional on the lease and on the link being in progress; returns the link as it
   * now stands, or throws StaleLinkError (lease lost, link decided) / NotFoundError.
   */
  heartbeat(id: string, { fence }: { fence: number }): Promise<Link> {
    return this.conditionalUpdate(id, heartbeatWrite(fence, new Date().toISOString()))
  }

  /**
   * Remembers the ECS task started for the link, so that its stop can be matched to the link.
   * Bookkeeping, not a visible change: no `version`, no `updatedAt`, no index is rewritten.
   */
  async recordTask(id: string, taskArn: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: linkKey(id),
        UpdateExpression: 'SET #task = :task',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#task': 'taskArn', '#pk': T.partitionKey },
        ExpressionAttributeValues: { ':task': taskArn },
      }),
    )
  }

  private async conditionalUpdate(id: string, write: ConditionalWrite): Promise<Link> {
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: linkKey(id),
          UpdateExpression: write.expression,
          ConditionExpression: `attribute_exists(#pk) AND ${write.conditions.join(' AND ')}`,
          ExpressionAttributeNames: { ...write.names, '#pk': T.partitionKey },
          ExpressionAttributeValues: write.values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      return linkFromItem(res.Attributes!)
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error
      // The SDK hands back the item as it was in DynamoDB's wire format, not unmarshalled.
      const current = (error as { Item?: Record<string, AttributeValue> }).Item
      if (!current) throw new NotFoundError()
      throw new StaleLinkError(linkFromItem(unmarshall(current)))
    }
  }

  /**
   * Takes the lease in one write: the next fencing token, so every earlier holder's writes now fail.
   * `workerId` records who holds it (the host the API pokes); `version` makes a takeover conditional
   * on the link as the taker read it.
   */
  async claim(id: string, from: readonly LinkStatus[], to?: LinkStatus, options: ClaimOptions = {}): Promise<Link> {
    const patch: LinkPatch = { heartbeatAt: new Date().toISOString(), ...(options.workerId ? { workerId: options.workerId } : {}), ...options.patch }
    return this.update(id, { from, to, takeLease: true, version: options.version, heartbeatAt: options.heartbeatAt, patch })
  }

  /**
   * Records a logout request on a linked link and queues it (`also`, the logout queue's item), in
   * one transaction: the link must still be linked and not already have a logout requested.
   * Returns false when one was already requested; a link that is not linked is a StaleLinkError.
   */
  async requestLogout(id: string, also: Record<string, unknown>): Promise<boolean> {
    const now = new Date().toISOString()
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: linkKey(id),
                UpdateExpression: 'SET #requested = :now, #version = #version + :one, #updatedAt = :now',
                ConditionExpression: '#status = :linked AND attribute_not_exists(#requested)',
                ExpressionAttributeNames: { '#requested': 'logoutRequestedAt', '#version': 'version', '#updatedAt': 'updatedAt', '#status': 'status' },
                ExpressionAttributeValues: { ':now': now, ':one': 1, ':linked': 'linked' },
              },
            },
            { Put: { TableName: this.tableName, Item: also } },
          ],
        }),
      )
      return true
    } catch (error) {
      if ((error as Error).name !== 'TransactionCanceledException') throw error
      const current = await this.get(id)
      if (!current) throw new NotFoundError()
      if (current.status === 'linked' && current.logoutRequestedAt) return false
      throw new StaleLinkError(current)
    }
  }

  /** Erases the link's stored WhatsApp auth state (it shares this table), for links no worker will finish. */
  eraseCredentials(id: string): Promise<void> {
    return eraseAuthState(id, { doc: this.doc, tableName: this.tableName })
  }

  /**
   * Lets one more client token open the link, keeping at most `keep`: the first one (handed out at
   * creation) always stays, and the oldest of the later ones makes room. Neither write can conflict
   * with a concurrent addition, so any number of them at once all succeed and none is lost: the hash
   * is appended atomically, then the list is trimmed one oldest-later entry at a time, each removal
   * conditional on the list still being over `keep` (whoever finds it trimmed enough stops).
   */
  async addClientTokenHash(id: string, hash: string, keep: number): Promise<void> {
    const names = { '#hashes': 'clientTokenHashes' }
    let length: number
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: linkKey(id),
          UpdateExpression: 'SET #hashes = list_append(#hashes, :hash)',
          ConditionExpression: 'attribute_exists(#hashes)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':hash': [hash] },
          ReturnValues: 'UPDATED_NEW',
        }),
      )
      length = (res.Attributes?.clientTokenHashes as string[]).length
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new NotFoundError()
      throw error
    }
    for (; length > keep; length--) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: linkKey(id),
            UpdateExpression: 'REMOVE #hashes[1]',
            ConditionExpression: 'size(#hashes) > :keep',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':keep': keep },
          }),
        )
      } catch (error) {
        if (isConditionalCheckFailed(error)) return // trimmed by a concurrent addition
        throw error
      }
    }
  }

  /** Claimed links still in progress whose last heartbeat is older than `before`. */
  quietSince(before: Date): AsyncGenerator<Link> {
    return linksActiveBefore(this.source, 'claimed', before, (link) => link.heartbeatAt !== null && link.heartbeatAt < before.toISOString())
  }

  /** Pending links no worker has claimed, created before `before`. */
  unclaimedSince(before: Date): AsyncGenerator<Link> {
    return linksActiveBefore(this.source, 'unclaimed', before, (link) => link.status === 'pending' && link.heartbeatAt === null && link.createdAt < before.toISOString())
  }

  private get source() {
    return { doc: this.doc, tableName: this.tableName, get: (id: string) => this.get(id) }
  }

  /** A tenant's links (their public fields, as the tenant index projects them), newest first. Status filters account for read-time expiry. */
  list(tenantId: string, options: ListOptions): Promise<{ links: LinkViewSource[]; nextCursor: string | null }> {
    return listTenantLinks(this.doc, this.tableName, tenantId, options)
  }
}

/** A conditional write lost: the link is no longer in the state the writer expected. */
export class StaleLinkError extends ConflictError {
  constructor(readonly current: Link) {
    super('state_conflict', `The link is ${current.status}; the change no longer applies.`)
  }
}
