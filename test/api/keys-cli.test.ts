import { describe, expect, it } from 'vitest'
import { ApiKeyStore, ApiKeyVerifier } from '@wa-link-broker/core/auth'
import { runKeysCli } from '../../scripts/keys.ts'
import { createTestTable } from '../support/store.ts'

describe('keys CLI', () => {
  it('creates a key shown once, lists it without the secret, and revokes it', async () => {
    const { doc, tableName, endpoint } = await createTestTable('keys')
    const env = { DYNAMODB_ENDPOINT: endpoint, TABLE_NAME: tableName }
    const out: string[] = []
    expect(await runKeysCli(['create', '--tenant', 'acme'], env, (l) => out.push(l))).toBe(0)
    const key = out.find((l) => l.startsWith('wlb_'))!
    expect(key).toBeDefined()
    const verifier = new ApiKeyVerifier(new ApiKeyStore(doc, tableName), 0)
    const principal = await verifier.verify(key)
    expect(principal).toMatchObject({ tenantId: 'acme' })

    const listed: string[] = []
    await runKeysCli(['list'], env, (l) => listed.push(l))
    expect(listed.join('\n')).toContain(principal!.keyId)
    expect(listed.join('\n')).toContain('tenant=acme')
    expect(listed.join('\n')).not.toContain(key)

    expect(await runKeysCli(['revoke', principal!.keyId], env, () => {})).toBe(0)
    expect(await verifier.verify(key)).toBeNull()
    expect(await runKeysCli(['revoke', principal!.keyId], env, () => {})).toBe(1)
    await expect(runKeysCli(['create'], env, () => {})).rejects.toThrow(/--tenant/)
    await expect(runKeysCli(['create', '--tenant', 'bad tenant!'], env, () => {})).rejects.toThrow(/tenant/)
  })
})
