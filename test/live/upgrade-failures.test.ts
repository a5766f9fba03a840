/**
 * WebSocket failures against raw servers on loopback: which ones count towards the device's
 * unreachable state, how they are logged, and that the request counters stay apart.
 */

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';

import { DeviceClient } from '../../src/lib/client';
import type { WledError } from '../../src/lib/errors';
import { LiveDevice } from '../../src/lib/live';
import { channelHealth } from '../../src/lib/live/client-reader';
import { closedPort } from '../nodes/helpers';
import { FAST_LIVE, MemoryLogger, Recorder, waitFor } from './helpers';

const DOCUMENT = { state: { on: true, bri: 30, seg: [] }, info: { ver: '0.15.3', uptime: 100 } };

type Server = net.Server | http.Server;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

describe('live WebSocket upgrade failures', function () {
  let server: Server | undefined;
  let live: LiveDevice | undefined;
  let client: DeviceClient | undefined;
  const sockets = new Set<net.Socket>();

  afterEach(async () => {
    await live?.close();
    await client?.close();
    for (const socket of sockets) {
      socket.destroy();
    }
    sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    live = undefined;
    client = undefined;
    server = undefined;
  });

  function feed(baseUrl: string, logger: MemoryLogger, failures: WledError[]): LiveDevice {
    return new LiveDevice({
      name: 'custom',
      baseUrl,
      readStateAndInfo: () => Promise.resolve(structuredClone(DOCUMENT)),
      logger,
      health: { reachable: () => undefined, failed: (error) => failures.push(error) },
      ...FAST_LIVE,
    });
  }

  it('counts a reset upgrade as dropped', async () => {
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => socket.resetAndDestroy());
    });
    const baseUrl = await listen(server);
    const logger = new MemoryLogger();
    const failures: WledError[] = [];
    live = feed(baseUrl, logger, failures);
    live.subscribe(new Recorder());

    await waitFor(() => (live?.stats().webSocketFailures ?? 0) >= 2, 'two failed upgrades');
    assert.equal(live.stats().lastFailure?.errorClass, 'dropped');
    assert.match(live.stats().lastFailure?.message ?? '', /ECONNRESET/);
    assert.equal(failures.length, 0, 'a reset was reported to the client as a connect failure');
  });

  it('keeps an unanswered upgrade out of the device health', async () => {
    server = net.createServer((socket) => {
      sockets.add(socket);
    });
    const baseUrl = await listen(server);
    const failures: WledError[] = [];
    live = feed(baseUrl, new MemoryLogger(), failures);
    live.subscribe(new Recorder());

    await waitFor(() => (live?.stats().webSocketFailures ?? 0) >= 1, 'a timed-out upgrade', 3000);
    assert.equal(failures.length, 0, 'an unanswered upgrade was reported to the client');
    assert.equal(live.stats().lastFailure?.errorClass, 'timeout');
    assert.match(live.stats().lastFailure?.message ?? '', /upgrade got no answer/);
  });

  it('keeps refused upgrades out of the request counters', async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}`;
    const logger = new MemoryLogger();
    client = new DeviceClient({
      name: 'custom',
      baseUrl,
      recovery: { backoffBaseMs: 30_000, backoffMaxMs: 30_000 },
      logger,
    });
    live = new LiveDevice({
      name: 'custom',
      baseUrl,
      readStateAndInfo: () => Promise.resolve(structuredClone(DOCUMENT)),
      logger,
      health: channelHealth(client),
      ...FAST_LIVE,
    });
    live.subscribe(new Recorder());

    await waitFor(() => client?.state === 'unreachable', 'three refused upgrades');
    assert.deepEqual(client.stats().failuresByClass, {});
    assert.ok((live.stats().webSocketFailuresByClass.unreachable ?? 0) >= 3);
    assert.ok(
      logger.lines.some((line) =>
        /^debug custom: reconnecting the WebSocket in \d+ ms after unreachable$/.test(line),
      ),
      'the reconnect attempt is logged with its delay and error class',
    );
  });

  it('points a rejected login to the credentials', async () => {
    server = http.createServer((_request, response) => response.end());
    server.on('upgrade', (_request, socket: net.Socket) => {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    const baseUrl = await listen(server);
    live = feed(baseUrl, new MemoryLogger(), []);
    live.subscribe(new Recorder());

    await waitFor(() => (live?.stats().webSocketFailures ?? 0) >= 1, 'the rejected upgrade');
    assert.equal(live.stats().lastFailure?.errorClass, 'http');
    assert.match(
      live.stats().lastFailure?.message ?? '',
      /HTTP 401, so check the username and password/,
    );
  });
});
