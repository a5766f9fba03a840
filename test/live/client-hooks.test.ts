/**
 * The device client's side of the live feed: WebSocket documents through its identity check,
 * and a write hook that throws.
 */

import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

import { DeviceClient } from '../../src/lib/client';
import { LiveDevice } from '../../src/lib/live';
import { channelHealth, followClient } from '../../src/lib/live/client-reader';
import { FAST_LIVE, MemoryLogger, Recorder, waitFor } from './helpers';

function documentWith(uptime: number): string {
  return JSON.stringify({
    state: { on: true, bri: 30, seg: [] },
    info: { ver: '0.15.3', mac: 'aabbccddeeff', uptime, arch: 'esp32', ws: 1 },
  });
}

describe('live feed and device client', function () {
  let server: http.Server | undefined;
  let sockets: WebSocketServer | undefined;
  let client: DeviceClient | undefined;
  let live: LiveDevice | undefined;

  afterEach(async () => {
    await live?.close();
    await client?.close();
    for (const socket of sockets?.clients ?? []) {
      socket.terminate();
    }
    sockets?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    live = undefined;
    client = undefined;
    server = undefined;
    sockets = undefined;
  });

  it('drops effect lists on a reboot seen only over the WebSocket', async () => {
    const gets: Record<string, number> = {};
    server = http.createServer((request, response) => {
      const path = request.url ?? '';
      gets[path] = (gets[path] ?? 0) + 1;
      response.setHeader('Content-Type', 'application/json');
      response.setHeader('Connection', 'close');
      response.end(path === '/json/si' ? documentWith(100) : '["Solid","Blink"]');
    });
    sockets = new WebSocketServer({ server, path: '/ws' });
    let device: WebSocket | undefined;
    sockets.on('connection', (socket) => {
      device = socket;
      socket.send(documentWith(100));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;

    const logger = new MemoryLogger();
    client = new DeviceClient({ name: 'custom', baseUrl, logger });
    live = new LiveDevice({
      name: 'custom',
      baseUrl,
      readStateAndInfo: () => Promise.reject(new Error('no polls in this test')),
      health: channelHealth(client),
      logger,
      ...FAST_LIVE,
    });
    followClient(live, client);
    const recorder = new Recorder();
    live.subscribe(recorder);
    await recorder.event((event) => event.resync === 'initial', 'the initial state');
    await client.effectLists();
    assert.equal(gets['/json/eff'], 1);

    // The uptime goes backwards in a push: the device restarted without dropping the socket.
    device?.send(documentWith(2));
    const reboot = await recorder.event((event) => event.resync !== undefined, 'the resync', 1);
    assert.equal(reboot.resync, 'reboot');
    await client.effectLists();
    assert.equal(gets['/json/eff'], 2, 'the lists were not fetched again after the reboot');
    assert.ok(logger.lines.some((line) => /custom: the device rebooted/.test(line)));
  });

  it('logs a write hook that throws', async () => {
    server = http.createServer((_request, response) => {
      response.setHeader('Content-Type', 'application/json');
      response.setHeader('Connection', 'close');
      response.end('{"on":true,"bri":5}');
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);

    try {
      const logger = new MemoryLogger();
      client = new DeviceClient({
        name: 'custom',
        baseUrl,
        logger,
        onWrite: () => () => {
          throw new Error('listener failed');
        },
      });
      const { data } = await client.setState({ bri: 5 });
      assert.equal(data.bri, 5);
      await waitFor(
        () => logger.lines.some((line) => line.includes('Error: listener failed')),
        'the logged hook failure',
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(unhandled, []);
      assert.ok(
        logger.lines.some((line) =>
          line.startsWith('error custom: settling the write hook failed'),
        ),
      );
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
