import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import type { _Record } from '@aws-sdk/client-dynamodb-streams'
import { unmarshall } from '@aws-sdk/util-dynamodb'
import type { StreamChange } from './events.ts'

/**
 * A stream record as the shared handler takes it, images unmarshalled: what the stream Lambda is
 * handed in AWS and what the local reader (stream-reader.ts) reads have the same shape.
 */
export function toStreamChange(record: Pick<_Record, 'eventName' | 'dynamodb'>): StreamChange {
  const image = (value: Record<string, unknown> | undefined) => (value ? unmarshall(value as Record<string, AttributeValue>) : undefined)
  return {
    eventName: record.eventName as StreamChange['eventName'],
    keys: image(record.dynamodb?.Keys) ?? {},
    oldImage: image(record.dynamodb?.OldImage),
    newImage: image(record.dynamodb?.NewImage),
  }
}
