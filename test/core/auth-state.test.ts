import { randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { GetCommand, PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { Curve, proto, type AuthenticationCreds, type KeyPair } from 'baileys'
import { eraseAuthState } from '@wa-link-broker/core/auth-state'
import { useDynamoDBAuthState } from '@wa-link-broker/core/auth-state/baileys'
import { LocalKeyProvider } from '@wa-link-broker/core/crypto'
import { newLinkId } from '@wa-link-broker/core/link'
import { createTestTable } from '../support/store.ts'

let doc: DynamoDBDocumentClient
let tableName: string
const keys = new LocalKeyProvider(randomBytes(32))

beforeAll(async () => {
  ;({ doc, tableName } = await createTestTable('auth'))
})

const open = (linkId: string) => useDynamoDBAuthState(linkId, { doc, tableName, keys })

async function itemsOf(linkId: string) {
  const out = await doc.send(
    new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `AUTH#${linkId}` }, ConsistentRead: true }),
  )
  return out.Items ?? []
}

function appStateKey() {
  return proto.Message.AppStateSyncKeyData.fromObject({
    keyData: randomBytes(32),
    fingerprint: { rawId: 7, currentIndex: 1, deviceIndexes: [0, 1] },
    timestamp: 1_700_000_000,
  })
}

describe('useDynamoDBAuthState', () => {
  it('round-trips creds and keys through a second instance', async () => {
    const linkId = newLinkId()
    const first = await open(linkId)
    first.state.creds.me = { id: '12345678901:3@s.whatsapp.net', name: 'Test' }
    await first.saveCreds()
    const preKey: KeyPair = Curve.generateKeyPair()
    const session = randomBytes(120)
    const syncKey = appStateKey()
    await first.state.keys.set({
      'pre-key': { '1': preKey },
      session: { '12345678901.0:3': session },
      'app-state-sync-key': { AAAAAQ: syncKey },
      'lid-mapping': { '12345678901': '99887766@lid' },
    })

    const second = await open(linkId)
    expect(second.state.creds).toEqual(first.state.creds)
    expect(Buffer.isBuffer(second.state.creds.noiseKey.private)).toBe(true)
    expect(second.state.creds.signedIdentityKey.private).toEqual(first.state.creds.signedIdentityKey.private)
    expect(second.state.creds.me?.id).toBe('12345678901:3@s.whatsapp.net')

    const preKeys = await second.state.keys.get('pre-key', ['1', '2'])
    expect(Object.keys(preKeys)).toEqual(['1'])
    expect(Buffer.from(preKeys['1'].private)).toEqual(Buffer.from(preKey.private))
    expect(Buffer.from(preKeys['1'].public)).toEqual(Buffer.from(preKey.public))
    expect(Buffer.from((await second.state.keys.get('session', ['12345678901.0:3']))['12345678901.0:3'])).toEqual(session)
    const sync = (await second.state.keys.get('app-state-sync-key', ['AAAAAQ'])).AAAAAQ
    expect(sync).toBeInstanceOf(proto.Message.AppStateSyncKeyData)
    expect(Buffer.from(sync.keyData!)).toEqual(Buffer.from(syncKey.keyData!))
    expect(sync.fingerprint?.deviceIndexes).toEqual([0, 1])
    expect((await second.state.keys.get('lid-mapping', ['12345678901']))['12345678901']).toBe('99887766@lid')
  })

  it('starts a new link from fresh creds and writes nothing until asked', async () => {
    const linkId = newLinkId()
    const a = await open(linkId)
    const b = await open(newLinkId())
    expect(a.state.creds.registered).toBe(false)
    expect(a.state.creds.noiseKey.private).not.toEqual(b.state.creds.noiseKey.private)
    expect(await a.state.keys.get('pre-key', ['1'])).toEqual({})
    expect(await a.exportState()).toEqual({ creds: null, keys: {} })
    expect(await itemsOf(linkId)).toEqual([])
  })

  it('deletes a key set to null', async () => {
    const linkId = newLinkId()
    const auth = await open(linkId)
    await auth.state.keys.set({ 'pre-key': { '1': Curve.generateKeyPair(), '2': Curve.generateKeyPair() } })
    await auth.state.keys.set({ 'pre-key': { '1': null } })
    expect(Object.keys(await auth.state.keys.get('pre-key', ['1', '2']))).toEqual(['2'])
    expect((await itemsOf(linkId)).map((i) => i.sk).sort()).toEqual(['datakey', 'key#pre-key#2'])
  })

  it('gets and sets more keys than one batch holds', async () => {
    const linkId = newLinkId()
    const auth = await open(linkId)
    const ids = Array.from({ length: 260 }, (_, i) => String(i + 1))
    const pairs = Object.fromEntries(ids.map((id) => [id, Curve.generateKeyPair()]))
    await auth.state.keys.set({ 'pre-key': pairs })
    expect(await itemsOf(linkId)).toHaveLength(261)

    const fresh = await open(linkId)
    const got = await fresh.state.keys.get('pre-key', [...ids, '9999', '1'])
    expect(Object.keys(got).sort()).toEqual([...ids].sort())
    for (const id of ids) expect(Buffer.from(got[id].private)).toEqual(Buffer.from(pairs[id].private))

    await fresh.state.keys.set({ 'pre-key': Object.fromEntries(ids.slice(0, 230).map((id) => [id, null])) })
    expect(Object.keys(await fresh.state.keys.get('pre-key', ids)).sort()).toEqual(ids.slice(230).sort())
  })

  it('clear() removes every item of the link and nothing of other links', async () => {
    const linkId = newLinkId()
    const other = newLinkId()
    const auth = await open(linkId)
    const bystander = await open(other)
    await auth.saveCreds()
    await bystander.saveCreds()
    await auth.state.keys.set({ 'pre-key': Object.fromEntries(Array.from({ length: 40 }, (_, i) => [String(i), Curve.generateKeyPair()])) })
    await auth.clear()
    expect(await itemsOf(linkId)).toEqual([])
    expect(await itemsOf(other)).toHaveLength(2)
    // After clear() the instance can be used again: a new data key is made for new writes.
    await auth.saveCreds()
    expect((await open(linkId)).state.creds).toEqual(auth.state.creds)
    await eraseAuthState(linkId, { doc, tableName })
    expect(await itemsOf(linkId)).toEqual([])
    expect((await open(linkId)).state.creds.noiseKey.private).not.toEqual(auth.state.creds.noiseKey.private)
  })

  it('exports creds and keys in BufferJSON form', async () => {
    const linkId = newLinkId()
    const auth = await open(linkId)
    await auth.saveCreds()
    const preKey = Curve.generateKeyPair()
    const syncKey = appStateKey()
    await auth.state.keys.set({ 'pre-key': { '5': preKey }, 'app-state-sync-key': { AAAAAQ: syncKey } })
    const exported = await auth.exportState()
    const creds = exported.creds as Record<string, any>
    expect(creds.noiseKey.private).toEqual({ type: 'Buffer', data: Buffer.from(auth.state.creds.noiseKey.private).toString('base64') })
    expect(creds.registrationId).toBe(auth.state.creds.registrationId)
    expect(exported.keys['pre-key']['5']).toEqual({
      private: { type: 'Buffer', data: Buffer.from(preKey.private).toString('base64') },
      public: { type: 'Buffer', data: Buffer.from(preKey.public).toString('base64') },
    })
    // Protobuf messages serialise through their own toJSON (bytes as base64), exactly as in Baileys' file store.
    expect((exported.keys['app-state-sync-key'].AAAAAQ as any).keyData).toBe(Buffer.from(syncKey.keyData!).toString('base64'))
    expect(JSON.parse(JSON.stringify(exported))).toEqual(exported)
  })

  it('stores no secret in plaintext, and the datakey item holds only the wrapped key', async () => {
    const linkId = newLinkId()
    const auth = await open(linkId)
    await auth.saveCreds()
    const preKey = Curve.generateKeyPair()
    const syncKey = appStateKey()
    await auth.state.keys.set({ 'pre-key': { '1': preKey }, 'app-state-sync-key': { AAAAAQ: syncKey } })

    const c: AuthenticationCreds = auth.state.creds
    const secrets = [
      c.noiseKey.private, c.signedIdentityKey.private, c.signedPreKey.keyPair.private, Buffer.from(c.advSecretKey, 'base64'),
      c.pairingEphemeralKeyPair.private, preKey.private, syncKey.keyData!,
    ].map((s) => Buffer.from(s))
    const needles = [...secrets.flatMap((s) => [s.toString('base64'), s.toString('hex'), s.toString('base64url')]), c.advSecretKey]
    const scanned = (await doc.send(new ScanCommand({ TableName: tableName }))).Items ?? []
    const ours = scanned.filter((item) => item.pk === `AUTH#${linkId}`)
    expect(ours).toHaveLength(4)
    const values = ours.flatMap((item) => Object.values(item).map(String))
    for (const needle of needles) for (const value of values) expect(value).not.toContain(needle)
    for (const item of ours) expect(item.ttl).toBeUndefined()

    const dataKeyItem = ours.find((item) => item.sk === 'datakey')!
    expect(Object.keys(dataKeyItem).sort()).toEqual(['pk', 'sk', 'wrappedKey'])
    const plainKey = await keys.decryptDataKey(dataKeyItem.wrappedKey, { linkId })
    for (const value of values) {
      expect(value).not.toContain(plainKey.toString('base64'))
      expect(value).not.toContain(plainKey.toString('hex'))
    }
  })

  it('refuses a sealed value moved to another item or link', async () => {
    const a = newLinkId()
    const b = newLinkId()
    const authA = await open(a)
    const authB = await open(b)
    await authA.saveCreds()
    await authB.saveCreds()
    await authA.state.keys.set({ 'pre-key': { '1': Curve.generateKeyPair(), '2': Curve.generateKeyPair() } })
    const get = (pk: string, sk: string) => doc.send(new GetCommand({ TableName: tableName, Key: { pk, sk } })).then((r) => r.Item!)

    const preKey1 = await get(`AUTH#${a}`, 'key#pre-key#1')
    await doc.send(new PutCommand({ TableName: tableName, Item: { ...preKey1, sk: 'key#pre-key#2' } }))
    await expect(authA.state.keys.get('pre-key', ['2'])).rejects.toThrow(/authentication/)

    // Even with B's data key replaced by A's, A's creds do not open as B's.
    const credsA = await get(`AUTH#${a}`, 'creds')
    await doc.send(new PutCommand({ TableName: tableName, Item: { ...credsA, pk: `AUTH#${b}` } }))
    await expect(open(b)).rejects.toThrow(/authentication/)
    const dataKeyA = await get(`AUTH#${a}`, 'datakey')
    await doc.send(new PutCommand({ TableName: tableName, Item: { ...dataKeyA, pk: `AUTH#${b}` } }))
    await expect(open(b)).rejects.toThrow(/authentication/)
  })

  it('ends with one data key when two processes create it at once', async () => {
    const linkId = newLinkId()
    const [one, two] = await Promise.all([open(linkId), open(linkId)])
    await Promise.all([one.saveCreds(), two.state.keys.set({ 'pre-key': { '1': Curve.generateKeyPair() } })])
    const third = await open(linkId)
    expect(third.state.creds).toEqual(one.state.creds)
    expect(Object.keys(await third.state.keys.get('pre-key', ['1']))).toEqual(['1'])
  })
})
