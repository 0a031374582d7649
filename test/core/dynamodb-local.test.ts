import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { freePort, PortInUseError, startDynamoDbLocal } from '../../scripts/dynamodb-local.ts'

const listTables = (endpoint: string) =>
  fetch(endpoint, {
    method: 'POST',
    headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0', authorization: 'AWS4-HMAC-SHA256 Credential=local/20200101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=x' },
    body: '{}',
  })

describe('startDynamoDbLocal', () => {
  it('refuses a port something else listens on, before starting Java', async () => {
    const port = await freePort()
    const squatter = createServer().listen(port, '0.0.0.0')
    await new Promise((resolve) => squatter.once('listening', resolve))
    try {
      await expect(startDynamoDbLocal({ port })).rejects.toBeInstanceOf(PortInUseError)
    } finally {
      squatter.close()
    }
  })

  it('still starts without a Java compiler, on every interface, and says so', async () => {
    const dynamo = await startDynamoDbLocal({ javac: '/nonexistent/javac', cacheDir: mkdtempSync(join(tmpdir(), 'no-javac-')) })
    try {
      expect(dynamo.loopbackOnly).toBe(false)
      expect((await listTables(dynamo.endpoint)).status).toBe(200)
    } finally {
      await dynamo.stop()
    }
  }, 60_000)
})
