/**
 * The live feed against small WebSocket servers on loopback that behave in ways the emulator
 * does not offer: a close with 1013, a missing push on connect, replies that are no state.
 */

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

import type { WledError } from '../../src/lib/errors';
import { LiveDevice } from '../../src/lib/live';
import { FAST_LIVE, MemoryLogger, Recorder, waitFor } from './helpers';

const DOCUMENT = { state: { on: true, bri: 30, seg: [] }, info: { ver: '0.15.3', uptime: 100 } };

/** Starts a WebSocket server on 127.0.0.1 that hands each new client to `onClient`. */
async function startServer(onClient: (client: WebSocket) => void): Promise<WebSocketServer> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
  server.on('connection', onClient);
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return server;
}

function baseUrlOf(server: WebSocketServer): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stopServer(server: WebSocketServer | undefined): Promise<void> {
  if (server === undefined) {
    return;
  }
  for (const client of server.clients) {
    client.terminate();
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('live feed against custom servers', function () {
  let server: WebSocketServer | undefined;
  let live: LiveDevice | undefined;

  afterEach(async () => {
    await live?.close();
    await stopServer(server);
    live = undefined;
    server = undefined;
  });

  function liveFor(target: WebSocketServer, failures: WledError[] = []): LiveDevice {
    return new LiveDevice({
      name: 'custom',
      baseUrl: baseUrlOf(target),
      // The poll finds the same state, so a fallback shows in the mode but not in the events.
      readStateAndInfo: () => Promise.resolve(structuredClone(DOCUMENT)),
      logger: new MemoryLogger(),
      health: { reachable: () => undefined, failed: (error) => failures.push(error) },
      ...FAST_LIVE,
    });
  }

  it('reports a 1013 close as overloaded', async () => {
    let connections = 0;
    server = await startServer((client) => {
      connections += 1;
      client.send(JSON.stringify(DOCUMENT));
      if (connections === 1) {
        client.close(1013, 'out of memory');
      }
    });
    const failures: WledError[] = [];
    live = liveFor(server, failures);
    const recorder = new Recorder();
    live.subscribe(recorder);

    await waitFor(() => failures.length > 0, 'the health report');
    assert.equal(failures[0].errorClass, 'overloaded');
    assert.match(failures[0].message, /1013/);
    await recorder.reachedMode('disconnected');
  });

  it('requests the state when no push arrives', async () => {
    const received: string[] = [];
    server = await startServer((client) => {
      client.on('message', (data) => {
        received.push(String(data));
        if (String(data) === '{"v":true}') {
          client.send(JSON.stringify(DOCUMENT));
        }
      });
    });
    live = liveFor(server);
    const recorder = new Recorder();
    live.subscribe(recorder);

    await recorder.event((event) => event.source === 'websocket', 'the pushed state');
    assert.ok(received.includes('{"v":true}'));
    await recorder.reachedMode('websocket');
  });

  it('ignores replies that carry no state', async () => {
    server = await startServer((client) => {
      client.send(JSON.stringify(DOCUMENT));
      client.send('pong');
      client.send('{"success":true}');
      client.send('{"error":9}');
      client.send(Buffer.from([0x4c, 1, 255, 0, 0]));
      client.send('not json');
    });
    live = liveFor(server);
    const recorder = new Recorder();
    live.subscribe(recorder);

    await recorder.event((event) => event.resync === 'initial', 'the initial state');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(recorder.events.length, 1);
    assert.equal(live.mode, 'websocket');
    assert.equal(live.stats().pushes, 1);
  });

  it('reports a refused connection as unreachable', async () => {
    server = await startServer(() => undefined);
    const baseUrl = baseUrlOf(server);
    await stopServer(server);
    server = undefined;

    const failures: WledError[] = [];
    live = new LiveDevice({
      name: 'gone',
      baseUrl,
      readStateAndInfo: () => Promise.reject(new Error('no device')),
      logger: new MemoryLogger(),
      health: { reachable: () => undefined, failed: (error) => failures.push(error) },
      ...FAST_LIVE,
    });
    const recorder = new Recorder();
    live.subscribe(recorder);

    await waitFor(() => failures.length > 0, 'the health report');
    assert.equal(failures[0].errorClass, 'unreachable');
    await recorder.reachedMode('disconnected');
    assert.equal(recorder.events.length, 0);
  });
});
