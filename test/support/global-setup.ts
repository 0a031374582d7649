import { startDynamoDbLocal } from '../../scripts/dynamodb-local.ts'

/**
 * One DynamoDB Local for the whole run; each test file creates its own table in it. Test workers
 * are forked after this runs, so they inherit DYNAMODB_ENDPOINT.
 */
export default async function setup() {
  const dynamo = await startDynamoDbLocal()
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint
  return async () => {
    await dynamo.stop()
  }
}
