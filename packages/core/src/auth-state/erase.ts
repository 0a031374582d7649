import { batchWrite } from '../store/batch.ts'
import { tableDefinition as T } from '../store/table.ts'
import { partitionItems, type AuthStateStore } from './items.ts'

/** Deletes a link's whole auth state, data key included; needs no key provider (e.g. the API erasing a logged-out link). */
export async function eraseAuthState(linkId: string, store: AuthStateStore): Promise<void> {
  const items = await partitionItems(store, linkId, { keysOnly: true })
  await batchWrite(
    store.doc,
    store.tableName,
    items.map((item) => ({ DeleteRequest: { Key: { [T.partitionKey]: item[T.partitionKey], [T.sortKey]: item[T.sortKey] } } })),
  )
}
