import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/** How to run the worker from source as a child process (the local launcher's command line). */
export function workerCommand(): string[] {
  const tsx = createRequire(import.meta.url).resolve('tsx')
  return [process.execPath, '--import', tsx, fileURLToPath(new URL('./main.ts', import.meta.url))]
}
