/**
 * `npm run pack:client`: the SDK as the npm package a SaaS installs — JavaScript and type
 * declarations compiled from packages/client/src, a package.json whose entry is that JavaScript, and
 * the README — packed with `npm pack` into dist/client/. test/client/package.test.ts installs this
 * tarball into an empty project and uses it from plain Node and from a strict TypeScript consumer.
 *
 * In this repository the package's entry stays its TypeScript source, like the other workspaces.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const source = join(root, 'packages/client')
const out = join(root, 'dist/client')
/** Where packages/client/tsconfig.build.json emits; the package's own directory. */
const staged = join(out, 'package')

/** Builds and packs the client; returns the tarball's path. */
export function packClient(): string {
  rmSync(out, { recursive: true, force: true })
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(source, 'tsconfig.build.json')], { stdio: 'inherit' })
  // tsc rewrites `./x.ts` to `./x.js` in the JavaScript but not in the declarations.
  for (const file of walk(join(staged, 'dist')).filter((f) => f.endsWith('.d.ts'))) {
    writeFileSync(file, readFileSync(file, 'utf8').replace(/(from\s+['"]\.{1,2}\/[^'"]+)\.ts(['"])/g, '$1.js$2'))
  }
  const own = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'))
  const { private: _private, exports: _sourceExports, ...rest } = own
  const manifest = {
    ...rest,
    license: 'UNLICENSED',
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    // For bundlers that predate `exports` (older Metro in React Native).
    main: './dist/index.js',
    types: './dist/index.d.ts',
    files: ['dist', 'README.md'],
  }
  writeFileSync(join(staged, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  copyFileSync(join(source, 'README.md'), join(staged, 'README.md'))
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: staged, encoding: 'utf8' }).trim().split('\n').pop()!
  return join(out, name)
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(packClient())
