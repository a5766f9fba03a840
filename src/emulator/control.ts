import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Latency } from './server';
import type { EmulatorStats, FaultSpec } from './types';

/** Operations the control endpoint calls, implemented by the emulator. */
export interface ControlTarget {
  stats(): EmulatorStats;
  resetStats(): void;
  listFaults(): FaultSpec[];
  inject(fault: FaultSpec): void;
  clearFaults(): void;
  setLatency(latencyMs: Latency): void;
  reboot(downMs?: number): Promise<void>;
}

/** Routes of the control endpoint, for `GET /` and the command-line help. */
export const CONTROL_ROUTES = [
  'GET    /stats         request and connection counters',
  'POST   /stats/reset   zero the counters',
  'GET    /faults        faults still pending',
  'POST   /faults        inject a fault: {"kind":"busy","count":3} or an array of them',
  'DELETE /faults        clear all faults',
  'POST   /reboot        reboot: {"downMs":2000} (body optional)',
  'POST   /latency       set latency: {"latencyMs":20} or {"latencyMs":[150,250]}',
];

/** Largest control request body, in bytes. */
const MAX_CONTROL_BODY = 65536;

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Starts the fault-control endpoint: a plain HTTP/JSON server on its own port, so faults on the
 * device port never affect it.
 */
export async function startControlServer(
  target: ControlTarget,
  host: string,
  port: number,
): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    handle(target, request)
      .then((result) => sendJson(response, 200, result))
      .catch((error: unknown) => {
        const status = error instanceof ControlError ? error.status : 400;
        sendJson(response, status, {
          error: error instanceof Error ? error.message : String(error),
        });
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return server;
}

/** Returns the port a started control server listens on. */
export function controlPortOf(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}

async function handle(target: ControlTarget, request: http.IncomingMessage): Promise<unknown> {
  const path = new URL(request.url ?? '/', 'http://control').pathname;
  const route = `${request.method} ${path}`;

  switch (route) {
    case 'GET /':
      return { routes: CONTROL_ROUTES };
    case 'GET /stats':
      return target.stats();
    case 'POST /stats/reset':
      target.resetStats();
      return target.stats();
    case 'GET /faults':
      return { faults: target.listFaults() };
    case 'POST /faults': {
      const body = await readJson(request);
      const faults = (Array.isArray(body) ? body : [body]) as FaultSpec[];
      for (const fault of faults) {
        target.inject(fault);
      }
      return { injected: faults.length, faults: target.listFaults() };
    }
    case 'DELETE /faults':
      target.clearFaults();
      return { faults: [] };
    case 'POST /reboot': {
      const body = (await readJson(request, {})) as { downMs?: unknown };
      const downMs = body.downMs;
      if (downMs !== undefined && (typeof downMs !== 'number' || downMs < 0)) {
        throw new ControlError(400, `invalid downMs ${JSON.stringify(downMs)}; expected ms >= 0`);
      }
      // The device goes down right away; the reply does not wait for it to come back.
      void target.reboot(downMs).catch(() => undefined);
      return { rebooting: true, downMs: downMs ?? null };
    }
    case 'POST /latency': {
      const body = (await readJson(request)) as { latencyMs?: unknown };
      target.setLatency(body.latencyMs as Latency);
      return { latencyMs: body.latencyMs };
    }
    default:
      throw new ControlError(404, `no control route ${route}; GET / lists the routes`);
  }
}

async function readJson(request: http.IncomingMessage, empty?: unknown): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_CONTROL_BODY) {
      throw new ControlError(413, `control request body larger than ${MAX_CONTROL_BODY} bytes`);
    }
    chunks.push(chunk as Buffer);
  }

  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '' && empty !== undefined) {
    return empty;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ControlError(400, `invalid JSON body ${JSON.stringify(text.slice(0, 80))}`);
  }
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}
