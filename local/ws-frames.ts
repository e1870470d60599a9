/**
 * Reads the frame headers of a client's WebSocket byte stream (RFC 6455 §5.2) so the local
 * API Gateway can apply per-frame limits, which `ws` does not offer (its `maxPayload` bounds
 * a whole message). Payload bytes are skipped, never buffered; `ws` still parses the stream.
 */
export interface FrameHeader {
  fin: boolean;
  /** 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  opcode: number;
  /** Payload length in bytes. */
  length: number;
}

export class FrameHeaderReader {
  private header = Buffer.alloc(0);
  private skip = 0;
  private stopped = false;

  /** `onFrame` sees every header as soon as it is complete; returning false stops the reader. */
  constructor(private readonly onFrame: (frame: FrameHeader) => boolean) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.stopped) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      const need = FrameHeaderReader.headerLength(this.header) - this.header.length;
      const take = chunk.subarray(at, at + need);
      this.header = Buffer.concat([this.header, take]);
      at += take.length;
      if (this.header.length < FrameHeaderReader.headerLength(this.header)) continue;
      const frame = FrameHeaderReader.parse(this.header);
      this.header = Buffer.alloc(0);
      this.skip = frame.length;
      if (!this.onFrame(frame)) this.stopped = true;
    }
  }

  /** Bytes of the header so far known to be needed: 2, then 2 + extended length + mask key. */
  private static headerLength(h: Buffer): number {
    if (h.length < 2) return 2;
    const len7 = h[1] & 0x7f;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (h[1] & 0x80 ? 4 : 0);
  }

  private static parse(h: Buffer): FrameHeader {
    const len7 = h[1] & 0x7f;
    const length = len7 === 126 ? h.readUInt16BE(2) : len7 === 127 ? Number(h.readBigUInt64BE(2)) : len7;
    return { fin: (h[0] & 0x80) !== 0, opcode: h[0] & 0x0f, length };
  }
}
