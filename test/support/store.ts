import { randomBytes } from 'node:crypto'
import { createDocumentClient, ensureTable } from '@wa-link-broker/core/store'

/** A fresh table in the run's DynamoDB Local (or the one at `endpoint`), so test files never see each other's items. */
export async function createTestTable(prefix = 'test', endpoint = process.env.DYNAMODB_ENDPOINT) {
  if (!endpoint) throw new Error('DYNAMODB_ENDPOINT is not set: run tests through `npm test` (vitest globalSetup).')
  const tableName = `${prefix}-${randomBytes(4).toString('hex')}`
  const doc = createDocumentClient({ dynamodbEndpoint: endpoint })
  await ensureTable(doc, tableName)
  return { doc, tableName, endpoint }
}
