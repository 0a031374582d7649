/**
 * Runs `task` every `ms`, never two at once: the next run is scheduled when the previous one has
 * finished, so a slow DynamoDB call cannot pile up heartbeats or polls. A failed run is reported
 * and the schedule goes on. Returns the function that stops it (a run in progress completes).
 */
export function every(ms: number, task: () => Promise<void>, onError: (error: unknown) => void): () => void {
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const schedule = () => {
    if (!stopped) timer = setTimeout(run, ms)
  }
  const run = () => {
    task().catch(onError).finally(schedule)
  }
  schedule()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}
