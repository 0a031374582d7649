import type { Logger } from '@wa-link-broker/core/logger'

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error'

/**
 * The level a Baileys log line is kept at. Baileys logs WhatsApp's routine restart after pairing
 * (stream error 515, which every successful link goes through) as an error; it is not one.
 */
export function baileysLevel(level: Level, obj: unknown, msg: string | undefined): Level {
  if (level === 'error' && msg === 'stream errored out' && streamErrorCode(obj) === '515') return 'debug'
  return level
}

function streamErrorCode(obj: unknown): string | undefined {
  const node = (obj as { fullErrorNode?: { attrs?: { code?: unknown } } } | undefined)?.fullErrorNode
  const code = node?.attrs?.code
  return code === undefined ? undefined : String(code)
}

/** The logger handed to Baileys: ours (with its redaction), at `level`, with routine lines quietened. */
export function baileysLogger(logger: Logger, level: string) {
  return wrap(logger.child({ component: 'baileys' }, { level }))
}

function wrap(target: Logger): unknown {
  const at = (level: Level) => (obj: unknown, msg?: string) => target[baileysLevel(level, obj, msg)](obj as object, msg)
  return {
    get level() {
      return target.level
    },
    set level(value: string) {
      target.level = value
    },
    child: (bindings: Record<string, unknown>) => wrap(target.child(bindings)),
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  }
}
