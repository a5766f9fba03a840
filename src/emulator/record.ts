import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

/** Endpoints read once, as `[path, file]`, in the order they are fetched. */
const ENDPOINTS: ReadonlyArray<[string, string]> = [
  ['/json/state', 'state.json'],
  ['/json/info', 'info.json'],
  ['/json/si', 'si.json'],
  ['/json', 'json.json'],
  ['/json/eff', 'eff.json'],
  ['/json/pal', 'pal.json'],
  ['/json/fxdata', 'fxdata.json'],
  ['/presets.json', 'presets.json'],
];

/** Endpoints a device may lack: `/json/fxdata` is 501 before 0.14, `/presets.json` 404 when
 *  no presets were saved. */
const OPTIONAL_FILES = new Set(['fxdata.json', 'presets.json']);

/** Highest `/json/palx` page read, a guard against a device that reports a huge `m`. */
const MAX_PALX_PAGES = 64;

export interface RecordOptions {
  /** Device base URL, e.g. `http://192.168.1.50`. */
  url: string;
  /** Folder to write the profile into; created when missing. */
  outDir: string;
  /** Per-request timeout in ms (default 10000). */
  timeoutMs?: number;
}

export interface RecordResult {
  /** Files written, relative to `outDir`. */
  files: string[];
  /** Endpoints the device did not serve (status other than 200). */
  skipped: string[];
}

/**
 * Reads a device's GET endpoints once, one request at a time, and saves the bodies byte for
 * byte in the fixture layout (`state.json`, `info.json`, `palx/page-N.json`, ...). It only
 * sends GET requests, so the device's state is left as it was.
 */
export async function recordDevice(options: RecordOptions): Promise<RecordResult> {
  const base = new URL(options.url);
  if (base.protocol !== 'http:') {
    throw new Error(`invalid device URL ${options.url}; expected http://<host>[:port]`);
  }
  const timeoutMs = options.timeoutMs ?? 10000;
  const result: RecordResult = { files: [], skipped: [] };

  await fs.mkdir(path.join(options.outDir, 'palx'), { recursive: true });

  for (const [endpoint, file] of ENDPOINTS) {
    const response = await getOnce(new URL(endpoint, base), timeoutMs);
    if (response.status !== 200) {
      if (!OPTIONAL_FILES.has(file)) {
        throw new Error(`GET ${endpoint} on ${base.host} failed with HTTP ${response.status}`);
      }
      result.skipped.push(endpoint);
      continue;
    }
    await fs.writeFile(path.join(options.outDir, file), response.body);
    result.files.push(file);
  }

  await recordPalettePages(base, options.outDir, timeoutMs, result);
  return result;
}

/** Reads `/json/palx?page=0`, then every page up to the `m` it reports. */
async function recordPalettePages(
  base: URL,
  outDir: string,
  timeoutMs: number,
  result: RecordResult,
): Promise<void> {
  let lastPage = 0;
  for (let page = 0; page <= lastPage && page <= MAX_PALX_PAGES; page += 1) {
    const response = await getOnce(new URL(`/json/palx?page=${page}`, base), timeoutMs);
    if (response.status !== 200) {
      // Before 0.12 the device has no palx endpoint (501).
      result.skipped.push('/json/palx');
      return;
    }

    const file = path.join('palx', `page-${page}.json`);
    await fs.writeFile(path.join(outDir, file), response.body);
    result.files.push(file);

    if (page === 0) {
      const parsed = JSON.parse(response.body.toString('utf8')) as { m?: unknown };
      lastPage = typeof parsed.m === 'number' ? parsed.m : 0;
    }
  }
}

interface GetResult {
  status: number;
  body: Buffer;
}

/** Attempts per endpoint while the device replies 503 because its JSON buffer is busy. */
const BUSY_ATTEMPTS = 3;

/** Pause before asking again after a 503, in ms (WLED sends `Retry-After: 1`). */
const BUSY_RETRY_MS = 1000;

/** Sends GET `url`, repeating it after a pause while the device replies 503. */
async function getOnce(url: URL, timeoutMs: number): Promise<GetResult> {
  let response = await getOnFreshConnection(url, timeoutMs);
  for (let attempt = 1; attempt < BUSY_ATTEMPTS && response.status === 503; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS));
    response = await getOnFreshConnection(url, timeoutMs);
  }
  return response;
}

/** Sends one GET on a fresh connection, because WLED serves one request per connection. */
function getOnFreshConnection(url: URL, timeoutMs: number): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    request.on('timeout', () => {
      request.destroy(
        new Error(
          `GET ${url.pathname}${url.search} on ${url.host} timed out after ${timeoutMs} ms`,
        ),
      );
    });
    request.on('error', reject);
  });
}
