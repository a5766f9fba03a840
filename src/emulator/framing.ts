/**
 * HTTP framing as WLED's web server (the Aircoookie fork of ESPAsyncWebServer) puts it on the
 * wire: an incremental request parser that reads one request per connection, and the response
 * head in the library's header order.
 */

/** Bodies of this many bytes or more are rejected (AsyncJson handler: 400 at exactly 16384,
 *  413 above). */
export const MAX_BODY_BYTES = 16384;

/** Maximum request head size in bytes, a limit of the emulator rather than the firmware. */
const MAX_HEAD_BYTES = 8192;

export interface ParsedRequest {
  method: string;
  /** Request target as sent, query included. */
  target: string;
  /** URL-decoded path without the query string. */
  path: string;
  query: URLSearchParams;
  /** 0 for an HTTP/1.0 request, 1 for HTTP/1.1; the status line echoes it. */
  httpMinor: number;
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Record<string, string>;
  /** Body bytes, empty when the body was not kept (chunked, form-encoded, too large). */
  body: Buffer;
  /** Declared `Content-Length` (0 when absent). */
  contentLength: number;
  /** The request announced `Transfer-Encoding: chunked`, which the firmware cannot read. */
  chunked: boolean;
}

export type ParseResult =
  | { kind: 'incomplete' }
  | { kind: 'head'; request: ParsedRequest }
  | { kind: 'complete'; request: ParsedRequest; rest: Buffer }
  | { kind: 'invalid'; reason: string };

/**
 * Reads one request from the bytes of a connection. `push` returns `head` once the head is
 * complete while a body is still expected, so the caller can send `100 Continue`. It then
 * returns `complete` with the body, and bytes past the body come back as `rest`.
 */
export class RequestReader {
  private buffered: Buffer = Buffer.alloc(0);
  private request: ParsedRequest | undefined;
  private bodyChunks: Buffer[] = [];
  private bodyReceived = 0;

  push(chunk: Buffer): ParseResult {
    if (this.request === undefined) {
      return this.readHead(chunk);
    }

    return this.readBody(chunk);
  }

  private readHead(chunk: Buffer): ParseResult {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    const headEnd = this.buffered.indexOf('\r\n\r\n');

    if (headEnd < 0) {
      if (this.buffered.length > MAX_HEAD_BYTES) {
        return { kind: 'invalid', reason: `request head longer than ${MAX_HEAD_BYTES} bytes` };
      }
      return { kind: 'incomplete' };
    }

    const parsed = parseHead(this.buffered.subarray(0, headEnd).toString('latin1'));
    if (typeof parsed === 'string') {
      return { kind: 'invalid', reason: parsed };
    }

    this.request = parsed;
    const afterHead = this.buffered.subarray(headEnd + 4);
    this.buffered = Buffer.alloc(0);

    // The firmware does not decode chunked bodies, so its handler receives no body.
    if (parsed.chunked || parsed.contentLength === 0) {
      return { kind: 'complete', request: parsed, rest: afterHead };
    }

    const bodyResult = this.readBody(afterHead);
    if (bodyResult.kind === 'incomplete') {
      return { kind: 'head', request: parsed };
    }
    return bodyResult;
  }

  private readBody(chunk: Buffer): ParseResult {
    const request = this.request as ParsedRequest;
    const missing = request.contentLength - this.bodyReceived;
    const part = chunk.subarray(0, missing);

    // Bodies at or above the limit are read to the end but not kept.
    if (request.contentLength < MAX_BODY_BYTES) {
      this.bodyChunks.push(part);
    }
    this.bodyReceived += part.length;

    if (this.bodyReceived < request.contentLength) {
      return { kind: 'incomplete' };
    }

    request.body = Buffer.concat(this.bodyChunks);
    return { kind: 'complete', request, rest: chunk.subarray(part.length) };
  }
}

function parseHead(head: string): ParsedRequest | string {
  const lines = head.split('\r\n');
  const requestLine = /^([A-Z]+) (\S+) HTTP\/1\.([01])$/.exec(lines[0]);
  if (requestLine === null) {
    return `invalid request line ${JSON.stringify(lines[0].slice(0, 80))}`;
  }

  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) {
      return `invalid header line ${JSON.stringify(line.slice(0, 80))}`;
    }
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }

  const contentLength = Number(headers['content-length'] ?? '0');
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
    return `invalid Content-Length ${JSON.stringify(headers['content-length'])}`;
  }

  const target = requestLine[2];
  const queryStart = target.indexOf('?');
  const rawPath = queryStart < 0 ? target : target.slice(0, queryStart);
  const rawQuery = queryStart < 0 ? '' : target.slice(queryStart + 1);

  return {
    method: requestLine[1],
    target,
    path: decodePath(rawPath),
    query: new URLSearchParams(rawQuery),
    httpMinor: Number(requestLine[3]),
    headers,
    body: Buffer.alloc(0),
    contentLength,
    chunked: /\bchunked\b/i.test(headers['transfer-encoding'] ?? ''),
  };
}

function decodePath(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return rawPath;
  }
}

const REASON_PHRASES: Record<number, string> = {
  100: 'Continue',
  101: 'Switching Protocols',
  200: 'OK',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  413: 'Request Entity Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** The CORS headers WLED registers as the server's default headers at boot. */
export const CORS_HEADERS: ReadonlyArray<[string, string]> = [
  ['Access-Control-Allow-Origin', '*'],
  ['Access-Control-Allow-Methods', '*'],
  ['Access-Control-Allow-Headers', '*'],
];

export interface HeadSpec {
  httpMinor: number;
  status: number;
  /** Omitted for chunked responses. */
  contentLength?: number;
  /** Omitted from the head when empty, as the library does. */
  contentType?: string;
  /** Headers the handler adds (`Retry-After`, `Access-Control-Max-Age`). */
  handlerHeaders?: ReadonlyArray<[string, string]>;
  /** `close` as the firmware sends; `keep-alive` or `none` for the proxy faults. */
  connection: 'close' | 'keep-alive' | 'none';
  /**
   * Basic responses (empty bodies, the preflight) add `Connection: close` when they are
   * constructed, so handler headers follow it; streamed JSON responses add it last.
   */
  connectionBeforeHandlerHeaders?: boolean;
  chunked?: boolean;
}

/** Builds the response head, blank line included, in ESPAsyncWebServer's header order. */
export function formatHead(spec: HeadSpec): Buffer {
  const reason = REASON_PHRASES[spec.status] ?? 'Unknown';
  const lines = [`HTTP/1.${spec.httpMinor} ${spec.status} ${reason}`];

  if (spec.contentLength !== undefined) {
    lines.push(`Content-Length: ${spec.contentLength}`);
  }
  if (spec.contentType) {
    lines.push(`Content-Type: ${spec.contentType}`);
  }

  const headers: Array<[string, string]> = [...CORS_HEADERS];
  const connection = connectionHeader(spec.connection);
  const handlerHeaders = spec.handlerHeaders ?? [];
  if (spec.connectionBeforeHandlerHeaders) {
    headers.push(...connection, ...handlerHeaders);
  } else {
    headers.push(...handlerHeaders, ...connection);
  }

  // The library adds these two while assembling the head, for HTTP/1.1 requests only.
  if (spec.httpMinor === 1) {
    headers.push(['Accept-Ranges', 'none']);
    if (spec.chunked) {
      headers.push(['Transfer-Encoding', 'chunked']);
    }
  }

  for (const [name, value] of headers) {
    lines.push(`${name}: ${value}`);
  }

  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
}

function connectionHeader(mode: HeadSpec['connection']): Array<[string, string]> {
  if (mode === 'none') {
    return [];
  }
  return [['Connection', mode]];
}

/**
 * Chunk-size styles. 16.x streams `/json/fxdata` with 4 hex digits and leading zeros. Older
 * library versions write the hex size padded with trailing spaces to 4 characters.
 */
export type ChunkSizeStyle = 'zero-padded' | 'space-padded';

/** Bytes per chunk; the firmware fills each chunk with what fits in the TCP send buffer. */
export const CHUNK_BYTES = 1024;

/** Encodes `body` as chunks, the terminating zero-size chunk included. */
export function encodeChunks(body: Buffer, style: ChunkSizeStyle): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += CHUNK_BYTES) {
    const piece = body.subarray(offset, offset + CHUNK_BYTES);
    chunks.push(Buffer.concat([chunkSizeLine(piece.length, style), piece, CRLF]));
  }
  chunks.push(Buffer.concat([chunkSizeLine(0, style), CRLF]));
  return chunks;
}

const CRLF = Buffer.from('\r\n');

function chunkSizeLine(size: number, style: ChunkSizeStyle): Buffer {
  const hex = size.toString(16);
  const padded = style === 'zero-padded' ? hex.padStart(4, '0') : hex.padEnd(4, ' ');
  return Buffer.from(`${padded}\r\n`, 'latin1');
}

/** The bytes 16.x writes when its request queue is full: no blank line, no body. */
export const QUEUE_FULL_REPLY = Buffer.from(
  'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n',
  'latin1',
);
