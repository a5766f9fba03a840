/**
 * Raw-socket helpers for the emulator's wire tests: what bytes arrive and how the connection
 * ends (FIN, RST or still open), which an HTTP client would hide.
 */

import net from 'node:net';
import path from 'node:path';
import { createDeviceModel } from '../../src/emulator/model';
import type { DeviceModel, ProfileInfo } from '../../src/emulator/types';

export type Ending = 'fin' | 'rst' | 'open' | 'refused';

export interface RawExchange {
  bytes: Buffer;
  text: string;
  /** How the server ended the connection within the wait. */
  ending: Ending;
  /** Time from connect to the ending (or the end of the wait), in ms. */
  elapsedMs: number;
}

export interface RawOptions {
  /** How long to wait for the server to end the connection, in ms (default 300). */
  waitMs?: number;
  /** Stop waiting (ending `open`) once the received bytes satisfy this. */
  stopWhen?: (bytes: Buffer) => boolean;
  /** Half-close the client side after writing the request. */
  endAfterWrite?: boolean;
}

/** Connects, writes `request` and records the reply and how the connection ended. */
export function rawExchange(
  port: number,
  request: string | Buffer | Array<string | Buffer>,
  options: RawOptions = {},
): Promise<RawExchange> {
  const waitMs = options.waitMs ?? 300;
  const started = Date.now();

  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;

    const finish = (ending: Ending): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const bytes = Buffer.concat(chunks);
      resolve({ bytes, text: bytes.toString('latin1'), ending, elapsedMs: Date.now() - started });
    };

    const timer = setTimeout(() => finish('open'), waitMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (options.stopWhen?.(Buffer.concat(chunks))) {
        finish('open');
      }
    });
    socket.on('end', () => finish('fin'));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') {
        finish('refused');
      } else if (error.code === 'ECONNRESET' || error.code === 'EPIPE') {
        finish('rst');
      } else {
        finish('rst');
      }
    });
    socket.on('connect', () => {
      const parts = Array.isArray(request) ? request : [request];
      for (const part of parts) {
        socket.write(part);
      }
      if (options.endAfterWrite) {
        socket.end();
      }
    });
  });
}

export interface ParsedReply {
  statusLine: string;
  headers: Array<[string, string]>;
  headerNames: string[];
  body: string;
}

/** Splits a reply with a complete head into status line, headers in order, and body. */
export function parseReply(text: string): ParsedReply {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    throw new Error(`reply has no complete head: ${JSON.stringify(text.slice(0, 200))}`);
  }
  const [statusLine, ...lines] = text.slice(0, headEnd).split('\r\n');
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 2)];
  });
  return {
    statusLine,
    headers,
    headerNames: headers.map(([name]) => name),
    body: text.slice(headEnd + 4),
  };
}

/** Returns whether `bytes` hold a complete head and the body its Content-Length announces. */
export function hasCompleteReply(bytes: Buffer): boolean {
  const text = bytes.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    return false;
  }
  const match = /\r\nContent-Length: (\d+)/i.exec(text.slice(0, headEnd));
  const length = match === null ? 0 : Number(match[1]);
  return bytes.length >= Buffer.byteLength(text.slice(0, headEnd + 4), 'latin1') + length;
}

/** The header order of WLED's JSON responses to HTTP/1.1 requests. */
export const JSON_HEADER_ORDER = [
  'Content-Length',
  'Content-Type',
  'Access-Control-Allow-Origin',
  'Access-Control-Allow-Methods',
  'Access-Control-Allow-Headers',
  'Connection',
  'Accept-Ranges',
];

export function get(path: string, minor = 1): string {
  return `GET ${path} HTTP/1.${minor}\r\nHost: 127.0.0.1\r\n\r\n`;
}

export function post(path: string, body: string, contentType = 'application/json'): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** Creates a built-in device that reports `overrides` in its profile to the server, such as
 *  another firmware line's busy behaviour or a smaller connection limit. */
export function builtinDevice(overrides: Partial<ProfileInfo> = {}): DeviceModel {
  const device = createDeviceModel({ profile: 'builtin' });
  const profile: ProfileInfo = { ...device.profile, ...overrides };
  return new Proxy(device, {
    get(target, property) {
      if (property === 'profile') {
        return profile;
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The shared fixtures folder beside the repository (may be absent on a fresh clone). */
export const FIXTURES_DIR = path.join(__dirname, '..', '..', '..', 'shared', 'wled-fixtures');

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
