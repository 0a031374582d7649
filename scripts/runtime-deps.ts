/**
 * The worker image's node_modules: exactly the packages the worker bundle loads at run time.
 *
 *   node --import tsx scripts/runtime-deps.ts <out>/node_modules
 *
 * The bundle (scripts/build.ts worker) inlines everything but WORKER_EXTERNALS (Baileys), so the
 * image needs those packages and their `dependencies` and `optionalDependencies`, resolved from
 * this install (`npm ci`, i.e. the lockfile) exactly as Node resolves them, and nothing else: not
 * the AWS SDK or libphonenumber (bundled), not peer dependencies (Baileys' `sharp`, `jimp`,
 * `link-preview-js` and `audio-decode` are peers it imports lazily, and only for media the worker
 * never handles). None of these packages is native, so the copy is the same for every CPU.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WORKER_EXTERNALS } from './build.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** The package names behind WORKER_EXTERNALS (`baileys`, `baileys/*` → `baileys`). */
export const runtimeRoots = () => [...new Set(WORKER_EXTERNALS.map((e) => (e.startsWith('@') ? e.split('/').slice(0, 2) : e.split('/').slice(0, 1)).join('/')))]

/** Where Node finds `name` from a package directory (its own node_modules, then each parent's). */
function resolvePackage(name: string, fromDir: string): string | null {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dirname(dir) === dir) return null
  }
}

/** Every package directory the roots need at run time, under `installRoot`. */
export function runtimeClosure(roots = runtimeRoots(), installRoot = root): { dir: string; name: string; version: string }[] {
  const found = new Map<string, { dir: string; name: string; version: string }>()
  const visit = (name: string, fromDir: string, optional: boolean) => {
    const dir = resolvePackage(name, fromDir)
    if (!dir) {
      if (optional) return
      throw new Error(`${name} (needed from ${relative(installRoot, fromDir) || '.'}) is not installed: run npm ci first`)
    }
    if (found.has(dir)) return
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    found.set(dir, { dir, name: pkg.name, version: pkg.version })
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir, false)
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) visit(dep, dir, true)
  }
  for (const name of roots) visit(name, installRoot, false)
  return [...found.values()].sort((a, b) => a.dir.localeCompare(b.dir))
}

/** Copies the closure into `outNodeModules`, keeping Node's layout (nested node_modules where npm nested them). */
export function copyRuntimeDeps(outNodeModules: string, installRoot = root): { packages: number } {
  const closure = runtimeClosure(runtimeRoots(), installRoot)
  const base = join(installRoot, 'node_modules')
  rmSync(outNodeModules, { recursive: true, force: true })
  mkdirSync(outNodeModules, { recursive: true })
  for (const { dir } of closure) {
    const target = join(outNodeModules, relative(base, dir))
    // A package's own nested node_modules are walked (and copied) as packages in their own right.
    cpSync(dir, target, { recursive: true, dereference: true, filter: (src) => !relative(dir, src).split(sep).includes('node_modules') })
  }
  return { packages: closure.length }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2]
  if (!out) {
    console.error('usage: node --import tsx scripts/runtime-deps.ts <out>/node_modules')
    process.exit(1)
  }
  const { packages } = copyRuntimeDeps(resolve(out))
  console.log(`${packages} packages -> ${out}`)
}
