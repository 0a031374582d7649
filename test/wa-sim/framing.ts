// WhatsApp's wire framing as Baileys speaks it (Utils/noise-handler.js): the client's first
// bytes are an intro header ("WA", 6, DICT_VERSION, optionally preceded by an "ED" routing
// block), then every frame in both directions is a 3-byte big-endian length plus the data.
// The server never sends an intro.
import { NOISE_WA_HEADER } from 'baileys'

const LENGTH_PREFIX_BYTES = 3
const MAX_FRAME_BYTES = 0xffffff
const ROUTING_PREFIX = Buffer.from('ED')

/** Splits the client's byte stream (arbitrary WebSocket message boundaries) into frames. */
export class ClientFrameReader {
  private buffered = Buffer.alloc(0)
  private introConsumed = false

  /** Feeds received bytes; returns the complete frames now available, in order. */
  push(chunk: Uint8Array): Buffer[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : Buffer.from(chunk)
    if (!this.introConsumed && !this.consumeIntro()) return []
    const frames: Buffer[] = []
    while (this.buffered.length >= LENGTH_PREFIX_BYTES) {
      const size = this.buffered.readUIntBE(0, LENGTH_PREFIX_BYTES)
      if (this.buffered.length < LENGTH_PREFIX_BYTES + size) break
      frames.push(this.buffered.subarray(LENGTH_PREFIX_BYTES, LENGTH_PREFIX_BYTES + size))
      this.buffered = this.buffered.subarray(LENGTH_PREFIX_BYTES + size)
    }
    return frames
  }

  /** Returns false while the intro is still incomplete; throws if it is not WhatsApp's. */
  private consumeIntro(): boolean {
    let offset = 0
    if (this.buffered.length >= 2 && this.buffered.subarray(0, 2).equals(ROUTING_PREFIX)) {
      // "ED", 0, 1, 3-byte routing-info length, routing info — sent once the server gave edge_routing.
      if (this.buffered.length < 7) return false
      offset = 7 + ((this.buffered[4]! << 16) | this.buffered.readUInt16BE(5))
    }
    if (this.buffered.length < offset + NOISE_WA_HEADER.length) return false
    const header = this.buffered.subarray(offset, offset + NOISE_WA_HEADER.length)
    if (!header.equals(NOISE_WA_HEADER)) {
      throw new Error(`unexpected intro header ${header.toString('hex')}`)
    }
    this.buffered = this.buffered.subarray(offset + NOISE_WA_HEADER.length)
    this.introConsumed = true
    return true
  }
}

/** Length-prefixes one server frame. */
export function encodeServerFrame(data: Uint8Array): Buffer {
  if (data.length > MAX_FRAME_BYTES) throw new Error(`frame too large: ${data.length} bytes`)
  const frame = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + data.length)
  frame.writeUIntBE(data.length, 0, LENGTH_PREFIX_BYTES)
  frame.set(data, LENGTH_PREFIX_BYTES)
  return frame
}
