// TEST-ONLY preload: makes every copy of Baileys loaded by this Node process trust the
// simulator's fixed test root key instead of WhatsApp's pinned noise root key.
//
//   NODE_OPTIONS="--import /abs/path/test/wa-sim/preload.mjs" node worker.js
//
// Product code never imports this. It is plain .mjs (no tsx needed) and works through a
// module.register loader hook, so it reaches whichever resolved `baileys` the process loads
// (including copies nested under other packages), not just one module instance.
import { readFileSync } from 'node:fs'
import { register } from 'node:module'

const { publicKeyHex } = JSON.parse(readFileSync(new URL('./test-root-key.json', import.meta.url), 'utf8'))

register('./preload-hooks.mjs', import.meta.url, { data: { publicKeyHex } })
