import type net from 'node:net';
import type { TcpProxy } from './tcp-proxy.js';

// PostgreSQL frontend protocol 3.0: an untyped first message (startup, or an SSL/GSS request that
// another untyped one follows), then messages of a type byte and an int32 length that counts itself
const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const PROTOCOL_3 = 196608;
const UNTYPED = [PROTOCOL_3, SSL_REQUEST, GSS_REQUEST];

interface Stream {
  buffer: Buffer;
  started: boolean;
}

/**
 * Every SQL text the app sends through a TcpProxy, read off the wire (simple Query and the
 * extended protocol's Parse): what the app asked Postgres, with nothing in the app replaced.
 */
export class QueryLog {
  readonly statements: string[] = [];
  private readonly streams = new WeakMap<net.Socket, Stream>();

  constructor(proxy: TcpProxy) {
    proxy.onClientData = (client, chunk) => this.read(client, chunk);
  }

  count(pattern: RegExp): number {
    return this.statements.filter((sql) => pattern.test(sql)).length;
  }

  private read(client: net.Socket, chunk: Buffer): void {
    let stream = this.streams.get(client);
    if (!stream) {
      // a connection opened before this log was attached is seen from a typed message on
      stream = {
        buffer: Buffer.alloc(0),
        started: !(chunk.length >= 8 && UNTYPED.includes(chunk.readInt32BE(4))),
      };
      this.streams.set(client, stream);
    }
    stream.buffer = Buffer.concat([stream.buffer, chunk]);
    for (;;) {
      const { buffer } = stream;
      if (!stream.started) {
        if (buffer.length < 8) {
          return;
        }
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) {
          return;
        }
        const code = buffer.readInt32BE(4);
        stream.started = code !== SSL_REQUEST && code !== GSS_REQUEST;
        stream.buffer = buffer.subarray(length);
        continue;
      }
      if (buffer.length < 5) {
        return;
      }
      const length = buffer.readInt32BE(1);
      if (buffer.length < 1 + length) {
        return;
      }
      const type = String.fromCharCode(buffer[0]);
      const body = buffer.subarray(5, 1 + length);
      if (type === 'Q') {
        this.statements.push(cString(body, 0));
      } else if (type === 'P') {
        const name = cString(body, 0);
        this.statements.push(cString(body, Buffer.byteLength(name) + 1));
      }
      stream.buffer = buffer.subarray(1 + length);
    }
  }
}

function cString(buffer: Buffer, start: number): string {
  const end = buffer.indexOf(0, start);
  return buffer.toString('utf8', start, end < 0 ? buffer.length : end);
}
