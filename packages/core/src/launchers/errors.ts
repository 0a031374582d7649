/** A worker could not be started; the LinkService marks the link `failed/launch_failed` with this message. */
export class LaunchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'LaunchError'
  }
}
