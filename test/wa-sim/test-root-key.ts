// The simulator's fixed test root key. Committed (test-root-key.json) so the server that signs
// the noise certificate chain and preload.mjs, which makes Baileys trust it, always agree.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { WA_CERT_DETAILS } from 'baileys'

interface RootKeyFile {
  privateKeyHex: string
  publicKeyHex: string
}

const rootKeyFile = JSON.parse(
  readFileSync(fileURLToPath(new URL('./test-root-key.json', import.meta.url)), 'utf8'),
) as RootKeyFile

export const TEST_ROOT_KEY = {
  private: Buffer.from(rootKeyFile.privateKeyHex, 'hex'),
  public: Buffer.from(rootKeyFile.publicKeyHex, 'hex'),
}

/** Absolute path of the preload for child processes: NODE_OPTIONS=--import <PRELOAD_PATH>. */
export const PRELOAD_PATH = fileURLToPath(new URL('./preload.mjs', import.meta.url))

/**
 * Makes the Baileys instance this process already imported trust the test root key (what the
 * preload does for other processes). Tests running Baileys in-process call it once.
 */
export function trustTestRootKeyInThisProcess(): void {
  WA_CERT_DETAILS.PUBLIC_KEY = TEST_ROOT_KEY.public
}
