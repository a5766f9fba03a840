/**
 * The HTTP clients the benchmarks compare: our `DeviceClient` and three plain clients
 * (bare `node:http` with a keep-alive agent, undici with a one-connection pool, axios with
 * its defaults). Every client parses the JSON body, so each contender does the same work.
 */

import http from 'node:http';
import axios, { type AxiosResponse } from 'axios';
import { HttpAgent } from 'agentkeepalive';
import { Pool, request as undiciRequest } from 'undici';

import { DeviceClient } from '../src/lib/client';
import type { DeviceTimeouts, Logger } from '../src/lib/client/types';

/** What the benchmarks need from each client. Both calls resolve true on HTTP 200. */
export interface BenchClient {
  name: string;
  getState(): Promise<boolean>;
  /** POSTs the patch to `/json/state`; plain clients add `"v": true` as our client does. */
  setState(patch: Record<string, unknown>): Promise<boolean>;
  close(): Promise<void>;
}

/** Discards the client's log lines; the benchmarks report failures through their results. */
export const silentLogger: Logger = {
  debug: () => undefined,
  log: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export function ourClient(
  baseUrl: string,
  timeouts?: Partial<DeviceTimeouts>,
): BenchClient & { client: DeviceClient } {
  const client = new DeviceClient({ name: 'bench', baseUrl, timeouts, logger: silentLogger });
  return {
    name: 'ours (DeviceClient)',
    client,
    getState: async () => {
      await client.read('state');
      return true;
    },
    setState: async (patch) => {
      await client.setState(patch);
      return true;
    },
    close: () => client.close(),
  };
}

/** Bare `node:http` on a keep-alive agent with one socket, as a hand-written client would be. */
export function nodeHttpClient(baseUrl: string, timeoutMs: number): BenchClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  const send = (method: 'GET' | 'POST', path: string, body?: string): Promise<boolean> =>
    new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders =
        body === undefined
          ? {}
          : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
      const req = http.request(`${baseUrl}${path}`, { method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          try {
            JSON.parse(Buffer.concat(chunks).toString('utf8'));
            resolve(res.statusCode === 200);
          } catch (error) {
            reject(error);
          }
        });
      });
      req.setTimeout(timeoutMs, () =>
        req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(body);
    });

  return {
    name: 'node:http + keep-alive agent',
    getState: () => send('GET', '/json/state'),
    setState: (patch) => send('POST', '/json/state', JSON.stringify({ ...patch, v: true })),
    close: async () => agent.destroy(),
  };
}

/** undici 6 `request()` through a pool of one connection. */
export function undiciClient(baseUrl: string, timeoutMs: number): BenchClient {
  const pool = new Pool(baseUrl, { connections: 1 });

  const send = async (method: 'GET' | 'POST', path: string, body?: string): Promise<boolean> => {
    const response = await undiciRequest(`${baseUrl}${path}`, {
      method,
      dispatcher: pool,
      body,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await response.body.json();
    return response.statusCode === 200;
  };

  return {
    name: 'undici Pool(1)',
    getState: () => send('GET', '/json/state'),
    setState: (patch) => send('POST', '/json/state', JSON.stringify({ ...patch, v: true })),
    close: () => pool.close(),
  };
}

/**
 * axios on an agentkeepalive agent with one socket: the libraries our transport is built
 * on, without our lane, retries and checks. It separates their cost from ours.
 */
export function axiosKeepAliveClient(baseUrl: string, timeoutMs: number): BenchClient {
  const agent = new HttpAgent({ maxSockets: 1 });
  const instance = axios.create({ httpAgent: agent, timeout: timeoutMs });
  return {
    name: 'axios + agentkeepalive',
    getState: async () => isParsedJson(await instance.get(`${baseUrl}/json/state`)),
    setState: async (patch) =>
      isParsedJson(await instance.post(`${baseUrl}/json/state`, { ...patch, v: true })),
    close: async () => agent.destroy(),
  };
}

/**
 * axios with its defaults (Node's global agent), as the older WLED nodes use it. `timeoutMs`
 * only keeps a benchmark bounded: axios has no timeout by default.
 */
export function axiosClient(baseUrl: string, timeoutMs: number): BenchClient {
  return {
    name: 'axios (defaults)',
    getState: async () =>
      isParsedJson(await axios.get(`${baseUrl}/json/state`, { timeout: timeoutMs })),
    setState: async (patch) =>
      isParsedJson(
        await axios.post(`${baseUrl}/json/state`, { ...patch, v: true }, { timeout: timeoutMs }),
      ),
    close: async () => undefined,
  };
}

/**
 * axios does not fail on a body that is not JSON: by default (`silentJSONParsing`) it hands
 * back the text. The other clients fail on it, so a string body counts as a failure here too.
 */
function isParsedJson(response: AxiosResponse): boolean {
  return response.status === 200 && typeof response.data === 'object' && response.data !== null;
}
