/**
 * Lambda bundling settings shared by `scripts/build.ts` and `sst.config.ts` (which loads this with
 * `await import()`, as SST forbids top-level imports there). No imports: the SST config bundles it.
 */

/** ESM output needs a `require` for the CommonJS dependencies esbuild inlines. */
export const REQUIRE_BANNER =
  "import { createRequire as __wlbCreateRequire } from 'node:module'; const require = __wlbCreateRequire(import.meta.url);"

/**
 * The parts of the SDK's default credential chain that it loads with `await import()` only when
 * the environment holds no credentials: never on Lambda (the runtime sets AWS_ACCESS_KEY_ID & co.),
 * and present in the runtime's own node_modules if ever needed.
 */
export const LAZY_SDK_PARTS = [
  '@aws-sdk/nested-clients',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/token-providers',
  '@smithy/credential-provider-imds',
].flatMap((n) => [n, `${n}/*`])


/**
 * Where the Lambda build writes each Lambda's bundle: `dist/lambda/<name>/index.mjs`, one directory
 * per function. SST deploys a directory as it is (`bundle`): it zips every file in it after
 * writing the function's encrypted links (`resource.enc`) there, and adds no banner of its own.
 */
export const LAMBDA_OUT_DIR = 'dist/lambda'
/** The handler inside each bundle directory. */
export const LAMBDA_HANDLER = 'index.handler'
/**
 * What sst.config.ts runs (with the Node that evaluates it, in the repo root) before it declares a
 * Function: scripts/build.ts's `lambda` target, which takes no options and calls buildLambda() with
 * its defaults. Not `npm run build`: a package.json script could say anything. The repo's own tsx and
 * esbuild do the work (the config itself runs inside .sst/platform, beside SST's older esbuild), and
 * the shipped-bundle tests run this same recorded command. package.json's "build" is this, spelled out.
 */
export const LAMBDA_BUILD_ARGS = ['--import', 'tsx', 'scripts/build.ts', 'lambda'] as const
