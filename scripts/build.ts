/**
 * Bundles for deployment with esbuild.
 *
 *   node --import tsx scripts/build.ts lambda  -> dist/lambda/<name>/index.mjs for each LAMBDA_ENTRIES:
 *                                     buildLambda() with its defaults (the AWS SDK's hot path bundled,
 *                                     its lazily loaded credential providers left to the nodejs22.x
 *                                     runtime; see docs/deploy.md). `npm run build` is this command.
 *   node --import tsx scripts/build.ts worker  -> dist/worker/main.mjs (everything but Baileys, which
 *                                     stays an npm package, installed by the image's runtime stage)
 *
 * The command line takes no options: sst.config.ts runs exactly LAMBDA_BUILD_ARGS (./lambda-bundling.ts)
 * and deploys the directories as they are (SST `bundle`), and the shipped-bundle tests run the command
 * the config ran, so what ships can only be buildLambda()'s defaults. The other SDK placements are
 * built by bench:lambda, through buildLambda({ sdk }), for comparison only.
 */
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild'
import { readFileSync, rmSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LAMBDA_OUT_DIR, LAZY_SDK_PARTS, REQUIRE_BANNER } from './lambda-bundling.ts'
import { buildPageAssetsModule } from './page-assets.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** The Lambda runtime (nodejs22.x) provides these. */
export const RUNTIME_PROVIDED = ['@aws-sdk/*', '@smithy/*']

/** external: all of the SDK from the runtime; bundle: all of it in the bundle; hot: the hot path bundled, LAZY_SDK_PARTS from the runtime. */
export type SdkMode = 'external' | 'bundle' | 'hot'
export const SDK_EXTERNALS: Record<SdkMode, string[]> = { external: RUNTIME_PROVIDED, bundle: [], hot: LAZY_SDK_PARTS }

export const LAMBDA_ENTRIES = {
  api: 'packages/functions/src/lambda.ts',
  sweeper: 'packages/functions/src/sweeper.ts',
  taskStopped: 'packages/functions/src/task-stopped.ts',
  webhookStream: 'packages/functions/src/webhook-stream.ts',
  webhookDeliver: 'packages/functions/src/webhook-deliver.ts',
  webhookRetry: 'packages/functions/src/webhook-retry.ts',
} as const

export interface BuiltBundle {
  name: string
  file: string
  bytes: number
  metafile: Metafile
}

export async function buildLambda(options: { sdk?: SdkMode; outDir?: string } = {}): Promise<BuiltBundle[]> {
  await assertPageAssetsCurrent()
  const sdk = options.sdk ?? 'hot'
  const outDir = resolve(root, options.outDir ?? LAMBDA_OUT_DIR)
  rmSync(outDir, { recursive: true, force: true })
  const out: BuiltBundle[] = []
  for (const [name, entry] of Object.entries(LAMBDA_ENTRIES)) {
    const file = join(outDir, name, 'index.mjs')
    const result = await build({
      ...common,
      entryPoints: [resolve(root, entry)],
      outfile: file,
      target: 'node22',
      external: SDK_EXTERNALS[sdk],
      plugins: [zodEnglishOnly],
    })
    out.push({ name, file, bytes: statSync(file).size, metafile: result.metafile! })
  }
  return out
}

/**
 * The API bundle serves the hosted page's script from a committed, generated module; the browser
 * tests load that same module. Refuse to bundle a stale one, so what deploys is what was tested.
 */
async function assertPageAssetsCurrent(): Promise<void> {
  const file = 'packages/functions/src/page/assets.generated.ts'
  if (readFileSync(resolve(root, file), 'utf8') !== (await buildPageAssetsModule())) {
    throw new Error(`${file} is not what the page's sources build: run \`npm run generate\` and commit it.`)
  }
}

export const WORKER_EXTERNALS = ['baileys', 'baileys/*']

export async function buildWorker(options: { outDir?: string } = {}): Promise<BuiltBundle> {
  const outDir = resolve(root, options.outDir ?? 'dist/worker')
  rmSync(outDir, { recursive: true, force: true })
  const file = join(outDir, 'main.mjs')
  const result = await build({
    ...common,
    entryPoints: [resolve(root, 'packages/worker/src/main.ts')],
    outfile: file,
    target: 'node22',
    minify: true,
    sourcemap: 'linked',
    // Baileys stays a package: it loads a WASM bridge and optional modules at run time. Everything
    // else (AWS SDK, pino, …) is bundled: one file parses faster than hundreds of modules resolve.
    external: WORKER_EXTERNALS,
  })
  return { name: 'worker', file, bytes: statSync(file).size, metafile: result.metafile! }
}

/**
 * `z` (re-exported by @hono/zod-openapi) carries `z.locales`, a namespace of ~50 translations that
 * esbuild cannot tree-shake through the namespace object. The API only uses zod's default English
 * messages (set up by zod itself from `locales/en.js`), so the Lambda bundle keeps just `en`.
 * `z.config(z.locales.xx())` would then be undefined; nothing here calls it.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: "export { default as en } from './en.js'\n",
      resolveDir: dirname(args.path),
      loader: 'js',
    }))
  },
}

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  banner: { js: REQUIRE_BANNER },
  // Lambda resolves "main"/"module" like Node; prefer ESM builds where packages ship both.
  mainFields: ['module', 'main'],
}

const TARGETS = { lambda: () => buildLambda(), worker: async () => [await buildWorker()] }

async function main() {
  const [target, ...extra] = process.argv.slice(2)
  if (!(target in TARGETS) || extra.length > 0) {
    throw new Error(
      `usage: scripts/build.ts ${Object.keys(TARGETS).join('|')} (no options: what deploys is buildLambda()'s defaults; npm run bench:lambda compares other SDK placements)`,
    )
  }
  for (const b of await TARGETS[target as keyof typeof TARGETS]()) console.log(`${b.name}: ${(b.bytes / 1024).toFixed(1)} KB -> ${b.file}`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error)
    process.exit(1)
  })
}
