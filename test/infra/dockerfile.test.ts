import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
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
  for (const f of froms) if (!/^node:22-slim(\s|$)/.test(f.args)) problems.push(`line ${f.line}: FROM ${f.args} is not node:22-slim`)
  const stages = froms.map((f) => f.args.match(/\sAS\s+(\S+)/i)?.[1]).filter(Boolean) as string[]

  // Only the last stage becomes the image.
  const lastFrom = ins.lastIndexOf(froms.at(-1)!)
  const final = ins.slice(lastFrom)
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
  if (!final.some((i) => i.op === 'RUN' && /install[^&]*\btini\b/.test(i.args))) problems.push('tini is not installed in the final stage')
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
  if (!ins.some((i) => i.op === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args))) problems.push('production dependencies are not installed with npm ci --omit=dev')
  return problems
}

describe('packages/worker/Dockerfile (lint, no Docker engine)', () => {
  const text = readFileSync(join(ROOT, 'packages/worker/Dockerfile'), 'utf8')

  it('is multi-stage node:22-slim, non-root, tini as PID 1, and copies only what exists', () => {
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
    ['a different base', (t: string) => t.replace('FROM node:22-slim AS deps', 'FROM node:20 AS deps'), /node:20 AS deps is not node:22-slim/],
  ])('fails when it %s', (_n, edit, why) => {
    const variant = edit(text)
    expect(variant).not.toBe(text)
    expect(lintWorkerDockerfile(variant).join('\n')).toMatch(why)
  })
})
