import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { resolveHostId, taskIdFromArn } from './host-id.ts'

describe('host id', () => {
  it('reads the task id out of a task ARN, new and old formats', () => {
    expect(taskIdFromArn('arn:aws:ecs:eu-west-1:123456789012:task/wa-cluster/0f3a9c1e2b7d4e5f8a6b9c0d1e2f3a4b')).toBe('0f3a9c1e2b7d4e5f8a6b9c0d1e2f3a4b')
    expect(taskIdFromArn('arn:aws:ecs:us-east-1:123456789012:task/abcd-1234')).toBe('abcd-1234')
    expect(taskIdFromArn('arn:aws:lambda:us-east-1:1:function:x')).toBeUndefined()
  })

  it('uses the configured id, else the ECS task metadata endpoint, else local-<pid>-<random>', async () => {
    expect(await resolveHostId('local-1-ab', {})).toBe('local-1-ab')
    expect(await resolveHostId(undefined, {})).toMatch(new RegExp(`^local-${process.pid}-[0-9a-f]{8}$`))
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(req.url === '/v4/abc/task' ? JSON.stringify({ TaskARN: 'arn:aws:ecs:us-east-1:123456789012:task/c/feedbeef' }) : '{}')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4/abc`
      expect(await resolveHostId(undefined, { ECS_CONTAINER_METADATA_URI_V4: uri })).toBe('feedbeef')
    } finally {
      server.close()
    }
  })
})
