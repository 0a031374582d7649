import type { Logger } from '@wa-link-broker/core/logger'

/**
 * Says once, plainly, that WhatsApp cannot be reached (and why), however many sessions keep
 * retrying; says so again when it can be reached once more. Only log lines depend on it.
 */
export class Reachability {
  private down = false

  constructor(
    private readonly logger: Logger,
    private readonly url: string | undefined,
  ) {}

  unreachable(reason: string): void {
    if (this.down) {
      this.logger.debug({ reason }, 'WhatsApp still unreachable')
      return
    }
    this.down = true
    const where = this.url ?? "WhatsApp's servers (Baileys' default URL)"
    this.logger.warn({ url: this.url ?? null, reason }, `cannot reach ${where}: ${reason}. Check the network (or WA_WS_URL); retrying`)
  }

  reachable(): void {
    if (!this.down) return
    this.down = false
    this.logger.info('WhatsApp is reachable again')
  }
}
