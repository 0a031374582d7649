import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { build } from 'esbuild'
import { buildWorker } from '../../scripts/build.ts'
import { copyRuntimeDeps, runtimeRoots } from '../../scripts/runtime-deps.ts'
import { ROOT } from './sst-shape.ts'

/** No Docker engine here: parse the worker's Dockerfile and check what a build would rely on. */
interface Instruction { op: string; args: string; line: number }

export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]
    const start = i + 1
    if (/^\s*(#|$)/.test(line)) continue
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + ' ' + lines[++i].trim()
    const m = line.trim().match(/^(\w+)\s+(.*)$/)
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2].trim(), line: start })
  }
  return out
}

export function lintWorkerDockerfile(text: string, context = ROOT): string[] {
  const problems: string[] = []
  const ins = parseDockerfile(text)
  const froms = ins.filter((i) => i.op === 'FROM')
  if (froms.length < 2) problems.push('expected a multi-stage build (two or more FROM)')
  const image = (f: Instruction) => f.args.replace(/^--platform=\S+\s+/, '')
  for (const f of froms) if (!/^node:22-slim(\s|$)/.test(image(f))) problems.push(`line ${f.line}: FROM ${image(f)} is not node:22-slim`)
  const stages = froms.map((f) => f.args.match(/\sAS\s+(\S+)/i)?.[1]).filter(Boolean) as string[]
  const stageOf = (name: string) => {
    const from = froms.find((f) => f.args.match(/\sAS\s+(\S+)/i)?.[1] === name)
    return from ? ins.slice(ins.indexOf(from), ins.indexOf(froms[froms.indexOf(from) + 1] ?? ins.at(-1)!) + 1) : []
  }

  // Only the last stage becomes the image.
  const lastFrom = ins.lastIndexOf(froms.at(-1)!)
  const final = ins.slice(lastFrom)

  // Nothing runs under emulation: every stage that RUNs is on the builder's platform, and the image's
  // own (target platform) stage runs nothing.
  froms.forEach((f, i) => {
    const body = ins.slice(ins.indexOf(f), i + 1 < froms.length ? ins.indexOf(froms[i + 1]) : ins.length)
    const runs = body.some((x) => x.op === 'RUN')
    if (f === froms.at(-1)) {
      if (runs) problems.push(`line ${f.line}: the final stage RUNs commands, which execute under emulation when the builder's CPU differs`)
    } else if (runs && !/^--platform=\$BUILDPLATFORM\s/.test(f.args)) problems.push(`line ${f.line}: a stage that RUNs must be FROM --platform=$BUILDPLATFORM (it runs on the target platform, emulated)`)
  })
  const user = final.filter((i) => i.op === 'USER').at(-1)
  if (!user) problems.push('the final stage sets no USER (it would run as root)')
  else if (/^(root|0)(:|$)/.test(user.args)) problems.push(`line ${user.line}: USER ${user.args} is root`)
  const entry = final.filter((i) => i.op === 'ENTRYPOINT').at(-1)
  if (!entry) problems.push('the final stage has no ENTRYPOINT')
  else {
    let argv: string[] = []
    try { argv = JSON.parse(entry.args) } catch { problems.push(`line ${entry.line}: ENTRYPOINT must be exec (JSON) form`) }
    if (argv.length && !/(^|\/)tini$/.test(argv[0])) problems.push(`line ${entry.line}: ENTRYPOINT does not start tini (PID 1 must forward SIGTERM)`)
    if (argv.length && argv.at(-1) !== '--') problems.push(`line ${entry.line}: ENTRYPOINT should end with "--"`)
  }
  const tini = final.find((i) => i.op === 'COPY' && /\s\/usr\/bin\/tini$/.test(i.args))
  const tiniFrom = tini?.args.match(/--from=(\S+)/)?.[1]
  if (!tini || !tiniFrom) problems.push('tini is not copied into the final stage at /usr/bin/tini')
  else if (!stageOf(tiniFrom).some((i) => i.op === 'RUN' && /\btini:\$TARGETARCH\b/.test(i.args))) problems.push(`tini must be fetched for $TARGETARCH in stage ${tiniFrom}`)
  const cmd = final.filter((i) => i.op === 'CMD').at(-1)
  if (!cmd) problems.push('the final stage has no CMD')

  for (const c of ins.filter((i) => i.op === 'COPY' || i.op === 'ADD')) {
    const words = c.args.split(/\s+/)
    const from = words.find((w) => w.startsWith('--from='))?.slice(7)
    const paths = words.filter((w) => !w.startsWith('--'))
    const sources = paths.slice(0, -1)
    if (from) {
      if (!stages.includes(from)) problems.push(`line ${c.line}: COPY --from=${from} names no earlier stage`)
      continue
    }
    for (const s of sources) if (!existsSync(join(context, s))) problems.push(`line ${c.line}: COPY source ${s} does not exist in the context`)
  }
  // The image's node_modules: exactly what the bundle loads (scripts/runtime-deps.ts), from an npm ci install.
  const modules = final.find((i) => i.op === 'COPY' && /\snode_modules\/?$|\s\.\/node_modules\/?$/.test(i.args))
  const modulesFrom = modules?.args.match(/--from=(\S+)/)?.[1]
  const source = modules?.args.split(/\s+/).filter((w) => !w.startsWith('--'))[0]
  const producer = modulesFrom ? stageOf(modulesFrom) : []
  if (!modules) problems.push('the final stage copies no node_modules')
  else if (!producer.some((i) => i.op === 'RUN' && new RegExp(`scripts/runtime-deps\\.ts\\s+${source?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).test(i.args))) {
    problems.push(`the runtime node_modules must be what scripts/runtime-deps.ts copies, not ${modulesFrom ?? 'the context'}:${source}`)
  }
  if (!producer.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args))) problems.push('the runtime packages must come from an npm ci install (the lockfile)')
  return problems
}

describe('packages/worker/Dockerfile (lint, no Docker engine)', () => {
  const text = readFileSync(join(ROOT, 'packages/worker/Dockerfile'), 'utf8')

  it('is multi-stage node:22-slim, nothing emulated, non-root, tini as PID 1, Baileys’ packages only, and copies only what exists', () => {
    expect(lintWorkerDockerfile(text)).toEqual([])
  })

  it('the .dockerignore keeps the context small and carries SST’s own .sst line', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')
    for (const entry of ['**/node_modules', '.sst', 'dist', '.git']) expect(ignore).toContain(entry)
    // Nothing the Dockerfile copies may be ignored.
    for (const needed of ['scripts', 'packages']) expect(ignore).not.toContain(needed)
  })

  it.each([
    ['runs as root', (t: string) => t.replace('USER node', 'USER root'), /is root/],
    ['no tini', (t: string) => t.replace('ENTRYPOINT ["/usr/bin/tini", "-s", "--"]', 'ENTRYPOINT ["node"]'), /does not start tini/],
    ['a missing COPY source', (t: string) => t.replace('COPY scripts/build.ts scripts/', 'COPY scripts/bundle.ts scripts/'), /scripts\/bundle\.ts does not exist/],
    ['a different base', (t: string) => t.replace('FROM --platform=$BUILDPLATFORM node:22-slim AS tini', 'FROM --platform=$BUILDPLATFORM node:20 AS tini'), /node:20 AS tini is not node:22-slim/],
    ['a build under emulation', (t: string) => t.replace('FROM --platform=$BUILDPLATFORM node:22-slim AS build', 'FROM node:22-slim AS build'), /must be FROM --platform=\$BUILDPLATFORM/],
    ['tini installed in the final stage (emulated)', (t: string) => t.replace('COPY --from=tini /tini/usr/bin/tini-static /usr/bin/tini', 'RUN apt-get update && apt-get install -y tini'), /final stage RUNs commands/],
    ['every installed package shipped', (t: string) => t.replace('COPY --from=build /runtime/node_modules ./node_modules', 'COPY --from=build /src/node_modules ./node_modules'), /must be what scripts\/runtime-deps\.ts copies/],
  ])('fails when it %s', (_n, edit, why) => {
    const variant = edit(text)
    expect(variant).not.toBe(text)
    expect(lintWorkerDockerfile(variant).join('\n')).toMatch(why)
  })
})

describe('the image’s runtime packages (scripts/runtime-deps.ts)', () => {
  it('are what the worker bundle leaves external, Baileys’ closure and nothing else, and suffice to load it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'worker-image-'))
    const bundle = await buildWorker({ outDir: join(out, 'dist/worker') })
    // Every bare import the bundle leaves to node_modules belongs to a runtime root.
    const externals = new Set(
      Object.values(bundle.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path.split('/')[0])),
    )
    expect([...externals].sort()).toEqual(runtimeRoots().sort())

    const { packages } = copyRuntimeDeps(join(out, 'node_modules'))
    const names = readdirSync(join(out, 'node_modules')).flatMap((n) => (n.startsWith('@') ? readdirSync(join(out, 'node_modules', n)).map((m) => `${n}/${m}`) : [n]))
    expect(names).toContain('baileys')
    for (const bundled of ['@aws-sdk', 'libphonenumber-js', 'sharp', '@img', 'jimp', 'hono', 'zod', 'typescript', '@wa-link-broker']) {
      expect(names.filter((n) => n === bundled || n.startsWith(`${bundled}/`))).toEqual([])
    }
    expect(packages).toBeLessThan(80)
    // Node resolves Baileys from the copied tree alone (nothing above the temp dir has node_modules).
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "const b = await import('baileys'); console.log(typeof b.makeWASocket)"], { cwd: out, encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.stdout.trim()).toBe('function')
  }, 120_000)
})

describe('the build stage has every file it runs', () => {
  it('copies every local module that scripts/build.ts, scripts/runtime-deps.ts and the worker bundle import', async () => {
    const ins = parseDockerfile(readFileSync(join(ROOT, 'packages/worker/Dockerfile'), 'utf8'))
    const froms = ins.filter((i) => i.op === 'FROM')
    const buildFrom = froms.find((f) => /\sAS\s+build$/i.test(f.args))!
    const stage = ins.slice(ins.indexOf(buildFrom), ins.indexOf(froms[froms.indexOf(buildFrom) + 1]))
    const copied = stage.filter((i) => i.op === 'COPY' && !i.args.includes('--from=')).flatMap((i) => i.args.split(/\s+/).filter((w) => !w.startsWith('--')).slice(0, -1))
    const { metafile } = await build({
      entryPoints: ['scripts/build.ts', 'scripts/runtime-deps.ts', 'packages/worker/src/main.ts'].map((f) => join(ROOT, f)),
      absWorkingDir: ROOT,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      outdir: 'out',
      logLevel: 'silent',
    })
    const local = Object.keys(metafile.inputs).filter((f) => !f.includes('node_modules'))
    expect(local.length).toBeGreaterThan(10)
    const missing = local.filter((f) => !copied.some((c) => f === c || f.startsWith(c.endsWith('/') ? c : `${c}/`)))
    expect(missing).toEqual([])
  })
})
