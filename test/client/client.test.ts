import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { RESOURCE_NAMES } from '../../src/lib/wled/resources';
import {
  captureLogger,
  createClient,
  deviceState,
  fixturesDir,
  haveFixtures,
  rejection,
  startHarness,
  type Harness,
} from './helpers';

describe('device client: normal operation', () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('reads every resource', async () => {
    harness = await startHarness();
    for (const resource of RESOURCE_NAMES) {
      const result = await harness.client.read(resource);
      assert.ok(result.data !== undefined, `${resource} returned no data`);
      assert.equal(result.diagnostics.attempts, 1, resource);
      assert.equal(result.diagnostics.status, 200, resource);
    }
    assert.equal(harness.client.state, 'connected');
  });

  it('records identity on first contact', async () => {
    harness = await startHarness();
    await harness.client.read('state');

    const info = harness.emulator.device.snapshot().info;
    const stats = harness.client.stats();
    assert.equal(stats.mac, info.mac);
    assert.equal(stats.version, info.ver);
    assert.equal(harness.emulator.stats().getsByPath['/json/info'], 1);
  });

  it('many requests in a row, none fails', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;

    for (let i = 0; i < 60; i++) {
      if (i % 2 === 0) {
        await client.read('state');
      } else {
        await client.setState({ bri: i });
      }
    }

    const stats = client.stats();
    assert.deepEqual(stats.failuresByClass, {});
    assert.equal(stats.retries, 0);
    assert.equal(stats.successes, 61);
    // WLED closes every connection, so each request opened its own.
    assert.equal(emulator.stats().connections, 61);
    assert.equal(deviceState(emulator).bri, 59);
    assert.equal(client.state, 'connected');
  });

  it('flood of 200 writes ends in the last state', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;

    const calls = [];
    for (let i = 1; i <= 200; i++) {
      calls.push(client.setState({ on: true, bri: i, seg: [{ id: 0, sx: i % 256 }] }));
    }
    const results = await Promise.allSettled(calls);

    const failed = results.filter((result) => result.status === 'rejected');
    assert.equal(failed.length, 0, JSON.stringify(failed.slice(0, 2)));
    const state = deviceState(emulator);
    assert.equal(state.bri, 200);
    assert.equal((state.seg as Array<{ sx: number }>)[0].sx, 200);
    assert.equal(emulator.stats().maxConcurrent, 1);
    assert.ok((emulator.stats().postsByPath['/json/state'] ?? 0) <= 3, 'writes were not merged');

    const last = results[199];
    assert.equal(last.status, 'fulfilled');
    if (last.status === 'fulfilled') {
      assert.equal(last.value.data.bri, 200);
      assert.ok(last.value.diagnostics.mergedWrites > 100);
    }
    assert.ok(client.stats().mergedWrites >= 190);
  });

  it('every merged caller gets the answer', async () => {
    harness = await startHarness();
    const { client } = harness;

    const first = client.setState({ bri: 5 });
    const second = client.setState({ bri: 6 });
    const third = client.setState({ on: true });
    const [, secondResult, thirdResult] = await Promise.all([first, second, third]);

    assert.equal(secondResult.data.bri, 6);
    assert.equal(thirdResult.data.bri, 6);
    assert.equal(secondResult.diagnostics.mergedWrites, 2);
    assert.equal(thirdResult.diagnostics.mergedWrites, 2);
  });

  it('barrier neither merged nor merged across', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.setState({ on: true, bri: 10 });
    emulator.resetStats();

    const calls = [
      client.setState({ bri: 20 }),
      client.setState({ on: 't' }),
      client.setState({ on: 't' }),
      client.setState({ bri: 30 }),
      client.setState({ bri: 40 }),
    ];
    const results = await Promise.all(calls);

    // bri 20 alone, two toggles alone, then 30 and 40 merged.
    assert.equal(emulator.stats().postsByPath['/json/state'], 4);
    assert.equal(results[1].data.on, false);
    assert.equal(results[2].data.on, true);
    assert.equal(results[4].diagnostics.mergedWrites, 2);
    assert.equal(deviceState(emulator).on, true);
    assert.equal(deviceState(emulator).bri, 40);
  });

  it('concurrent identical reads share a request', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('info');
    emulator.resetStats();

    const results = await Promise.all([
      client.read('state'),
      client.read('state'),
      client.read('state'),
      client.read('info'),
    ]);

    assert.equal(emulator.stats().getsByPath['/json/state'], 1);
    assert.equal(emulator.stats().getsByPath['/json/info'], 1);
    assert.deepEqual(results[0].data, results[2].data);
  });

  it('read after a write sees the write', async () => {
    harness = await startHarness();
    const { client } = harness;
    await client.read('state');

    const write = client.setState({ bri: 77 });
    const read = client.read('state');
    await write;
    const state = (await read).data as { bri: number };
    assert.equal(state.bri, 77);
  });

  it('minimum write spacing', async () => {
    const spacing = 150;
    harness = await startHarness({ client: { minWriteSpacingMs: spacing } });
    const { client } = harness;
    await client.read('info');

    const startedAt = Date.now();
    await client.setState({ bri: 1 });
    await client.setState({ bri: 2 });
    await client.setState({ bri: 3 });
    // Three write starts need at least two gaps.
    assert.ok(Date.now() - startedAt >= 2 * spacing - 5, `took ${Date.now() - startedAt} ms`);
  });

  it('two in flight, never two writes', async () => {
    harness = await startHarness({ client: { maxInFlight: 2 }, emulator: { latencyMs: 30 } });
    const { client, emulator } = harness;
    await client.read('info');
    emulator.resetStats();

    await Promise.all([
      client.read('state'),
      client.read('effects'),
      client.setState({ bri: 9 }),
      client.setState({ on: 't' }),
      client.read('palettes'),
    ]);

    assert.equal(emulator.stats().maxConcurrent, 2);
    assert.equal(emulator.stats().postsByPath['/json/state'], 2);
  });

  it('queue limit rejects as overloaded', async () => {
    harness = await startHarness({ client: { queueLimit: 2 }, emulator: { latencyMs: 50 } });
    const { client } = harness;
    await client.read('info');

    const first = client.read('state');
    const queuedA = client.setState({ on: 't' });
    const queuedB = client.setState({ on: 't' });
    const error = await rejection(client.setState({ on: 't' }));

    assert.equal(error.errorClass, 'overloaded');
    assert.equal(error.details.attempts, 0);
    assert.match(error.message, /the queue for this device is full \(2 waiting\)/);
    await Promise.all([first, queuedA, queuedB]);
  });

  it('caller abort withdraws a queued call', async () => {
    harness = await startHarness({ emulator: { latencyMs: 50 } });
    const { client, emulator } = harness;
    await client.read('info');
    emulator.resetStats();

    const controller = new AbortController();
    const first = client.setState({ bri: 3 });
    const withdrawn = client.setState({ on: 't' }, { signal: controller.signal });
    controller.abort();

    const error = await rejection(withdrawn);
    assert.equal(error.errorClass, 'cancelled');
    await first;
    assert.equal(emulator.stats().postsByPath['/json/state'], 1);
  });

  it('withdrawn merged write not sent', async () => {
    harness = await startHarness({ emulator: { latencyMs: 50 } });
    const { client, emulator } = harness;
    await client.setState({ on: true, bri: 1 });

    const controller = new AbortController();
    const first = client.setState({ bri: 2 });
    const kept = client.setState({ bri: 3 });
    const withdrawn = client.setState({ on: false, bri: 4 }, { signal: controller.signal });
    controller.abort();

    assert.equal((await rejection(withdrawn)).errorClass, 'cancelled');
    await first;
    const result = await kept;
    assert.equal(result.data.bri, 3);
    assert.equal(result.diagnostics.mergedWrites, 1);
    assert.equal(deviceState(emulator).on, true);
    assert.equal(deviceState(emulator).bri, 3);
  });

  it('invalid input sends nothing', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;

    const patchError = await rejection(client.setState(null as never));
    const resourceError = await rejection(client.read('colours' as never));

    assert.equal(patchError.errorClass, 'invalid-input');
    assert.equal(resourceError.errorClass, 'invalid-input');
    assert.match(resourceError.message, /state, info, full/);
    assert.equal(emulator.stats().requests, 0);
  });

  it('patch over 16383 bytes sends nothing', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;

    // The body the client sends is {"bri":1,"n":"…","v":true}.
    const overhead = JSON.stringify({ bri: 1, n: '', v: true }).length;
    const largest = await client.setState({ bri: 1, n: 'x'.repeat(16383 - overhead) });
    const error = await rejection(client.setState({ bri: 2, n: 'x'.repeat(16384 - overhead) }));

    assert.equal(largest.data.bri, 1);
    assert.equal(error.errorClass, 'invalid-input');
    assert.match(error.message, /16384 bytes of JSON, but WLED accepts at most 16383/);
    assert.equal(emulator.stats().postsByPath['/json/state'], 1);
  });

  it('effect lists cached', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;

    const lists = await client.effectLists();
    const again = await client.effectLists();

    assert.ok(lists.effects.length > 0);
    assert.ok(lists.palettes.length > 0);
    assert.equal(again, lists);
    assert.equal(emulator.stats().getsByPath['/json/eff'], 1);
    assert.equal(emulator.stats().getsByPath['/json/pal'], 1);
  });

  it('concurrent effect list loads shared', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;

    // A write between the loads is a barrier for merging identical reads in the lane.
    const loads = [client.effectLists(), client.setState({ on: 't' }), client.effectLists()];
    const [first, , second] = await Promise.all(loads);

    assert.equal(second, first);
    assert.equal(emulator.stats().getsByPath['/json/eff'], 1);
    assert.equal(emulator.stats().getsByPath['/json/pal'], 1);
  });

  it('effect lists without fxdata on 0.13', async function () {
    if (!haveFixtures) {
      this.skip();
    }
    harness = await startHarness({ emulator: { profile: '0.13.3-esp8266', fixturesDir } });

    const lists = await harness.client.effectLists();

    assert.ok(lists.effects.length > 0);
    assert.equal(lists.fxdata, undefined);
    assert.equal(harness.client.stats().lastError, undefined);
  });

  it('diagnostics of a queued call', async () => {
    harness = await startHarness({ emulator: { latencyMs: 20 } });
    const { client } = harness;
    await client.read('info');

    const first = client.read('state');
    const second = client.setState({ bri: 4 });
    const [, result] = await Promise.all([first, second]);

    assert.equal(result.diagnostics.method, 'POST');
    assert.equal(result.diagnostics.path, '/json/state');
    assert.equal(result.diagnostics.queueDepth, 0);
    assert.equal(result.diagnostics.attempts, 1);
    assert.equal(result.diagnostics.reusedSocket, false);
    assert.ok((result.diagnostics.ttfbMs ?? -1) >= 0);
    assert.ok(result.diagnostics.totalMs >= (result.diagnostics.ttfbMs ?? 0));
  });

  it('caller abort of a read on the wire', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('info');
    emulator.inject({ kind: 'delay-headers', count: 1, delayMs: 1500 });

    const controller = new AbortController();
    const startedAt = Date.now();
    const slow = client.read('state', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(slow);
    const abortedAfter = Date.now() - startedAt;
    // The device still keeps its JSON buffer for the abandoned request, so the next read
    // may meet a busy reply first; it must still succeed.
    const next = await client.read('info');

    assert.equal(error.errorClass, 'cancelled');
    assert.ok(abortedAfter < 1000, `the call ended ${abortedAfter} ms after it started`);
    assert.equal(next.diagnostics.status, 200);
  });
});

describe('device client: basic auth', () => {
  const password = 'pa55-word';
  let server: http.Server;
  let baseUrl: string;

  before(async () => {
    // A reverse proxy in front of a device: it checks the credentials and responds like WLED.
    server = http.createServer((request, response) => {
      const expected = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
      response.setHeader('Connection', 'close');
      response.setHeader('Content-Type', 'application/json');
      if (request.headers.authorization !== expected) {
        response.statusCode = 401;
        response.end('{"error":"unauthorized"}');
        return;
      }
      const body =
        request.url === '/json/info'
          ? { ver: '0.15.3', mac: '001122334455', uptime: 5 }
          : { on: true, bri: 1 };
      response.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the credentials', async () => {
    const logger = captureLogger();
    const client = createClient(baseUrl, logger, { username: 'admin', password });
    try {
      const result = await client.read('state');
      assert.equal(result.diagnostics.status, 200);
    } finally {
      await client.close();
    }
  });

  it('wrong password is an HTTP error, not logged', async () => {
    const logger = captureLogger();
    const client = createClient(baseUrl, logger, { username: 'admin', password: 'wrong-secret' });
    try {
      const error = await rejection(client.read('state'));

      assert.equal(error.errorClass, 'http');
      assert.equal(error.details.status, 401);
      assert.match(error.message, /HTTP 401/);
      assert.doesNotMatch(error.message, /wrong-secret/);
      assert.equal(client.state, 'connected');
      for (const line of logger.lines) {
        assert.doesNotMatch(line, /wrong-secret|Authorization|Basic /i);
      }
    } finally {
      await client.close();
    }
  });
});

describe('device client: keep-alive hint', () => {
  /** Starts a keep-alive server like a proxy in front of a device; `keepAliveTimeout` is
   *  announced as `Keep-Alive: timeout=N` in whole seconds. */
  async function startProxy(
    keepAliveMs: number,
  ): Promise<{ server: http.Server; connections: () => number; url: string }> {
    let connections = 0;
    const server = http.createServer((request, response) => {
      response.setHeader('Content-Type', 'application/json');
      const body =
        request.url === '/json/info'
          ? { ver: '0.15.3', mac: '001122334455', uptime: 5 }
          : { on: true, bri: 1 };
      response.end(JSON.stringify(body));
    });
    server.keepAliveTimeout = keepAliveMs;
    server.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { server, connections: () => connections, url };
  }

  it('one-second hint: no reuse', async () => {
    const proxy = await startProxy(1000);
    const client = createClient(proxy.url, captureLogger());
    try {
      for (let i = 0; i < 5; i++) {
        const result = await client.read('state');
        assert.equal(result.diagnostics.reusedSocket, false);
      }
      // The info read on first contact plus five state reads.
      assert.equal(proxy.connections(), 6);
    } finally {
      await client.close();
      proxy.server.closeAllConnections();
      await new Promise((resolve) => proxy.server.close(resolve));
    }
  });

  it('longer hint: sockets reused', async () => {
    const proxy = await startProxy(5000);
    const client = createClient(proxy.url, captureLogger());
    try {
      let reused = 0;
      for (let i = 0; i < 5; i++) {
        const result = await client.read('state');
        reused += result.diagnostics.reusedSocket ? 1 : 0;
      }
      assert.equal(reused, 5);
      assert.equal(proxy.connections(), 1);
    } finally {
      await client.close();
      proxy.server.closeAllConnections();
      await new Promise((resolve) => proxy.server.close(resolve));
    }
  });
});
