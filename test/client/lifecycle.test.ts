import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { getEventListeners } from 'node:events';
import net from 'node:net';

import { createDeviceModel } from '../../src/emulator/model';
import { DeviceClient } from '../../src/lib/client';
import { WledError } from '../../src/lib/errors';
import { messageText } from '../../src/lib/messages';
import {
  captureLogger,
  createClient,
  deviceState,
  rejection,
  startHarness,
  waitFor,
  type Harness,
} from './helpers';

const FAST_RECOVERY = { backoffBaseMs: 100, backoffMaxMs: 400 };

/** Records the timers and TCP handles created while it is enabled and not yet gone, with where
 *  they were created. */
function trackResources(): { live(): string[]; stop(): void } {
  const live = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout' && type !== 'TCPWRAP' && type !== 'TCPCONNECTWRAP') {
        return;
      }
      // Mocha's own test timer is not ours to check.
      const stack = new Error().stack ?? '';
      if (!stack.includes('node_modules/mocha')) {
        live.set(id, `${type} ${stack.split('\n').slice(4, 8).join(' <')}`);
      }
    },
    destroy(id) {
      live.delete(id);
    },
  });
  hook.enable();
  return { live: () => [...live.values()], stop: () => hook.disable() };
}

/** Lets the event loop run a few hundred turns without creating timers. */
async function settle(until: () => boolean): Promise<void> {
  for (let turn = 0; turn < 500 && !until(); turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Returns a port on loopback that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('device client: connection lifecycle', () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('idle, connecting, connected', async () => {
    harness = await startHarness();
    const { client, changes, logger } = harness;
    assert.equal(client.state, 'idle');

    await client.read('state');

    assert.deepEqual(
      changes.map((change) => change.to),
      ['connecting', 'connected'],
    );
    assert.equal(changes[0].device, 'test-device');
    assert.ok(
      logger.lines.some((line) => /^debug test-device: connection idle -> connecting/.test(line)),
    );
  });

  it('closed port: unreachable after three failures', async () => {
    const logger = captureLogger();
    const client = createClient(`http://127.0.0.1:${await closedPort()}`, logger, {
      recovery: { backoffBaseMs: 60_000, backoffMaxMs: 60_000 },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const error = await rejection(client.read('state'));
        assert.equal(error.errorClass, 'unreachable');
        assert.equal(error.details.code, 'ECONNREFUSED');
        assert.match(error.message, /check its power, its Wi-Fi and the address/);
      }
      assert.equal(client.state, 'unreachable');

      const fast = await rejection(client.setState({ on: true }));
      assert.equal(fast.errorClass, 'unreachable');
      assert.equal(fast.details.attempts, 0);
      assert.match(fast.message, /next check is in \d+ s/);
      assert.ok(
        logger.lines.some((line) =>
          /connecting -> unreachable: 3 connection failures in a row/.test(line),
        ),
      );
    } finally {
      await client.close();
    }
  });

  it('device off then back, same client', async () => {
    harness = await startHarness({ client: { recovery: FAST_RECOVERY } });
    const { client, emulator, changes } = harness;
    await client.setState({ on: true, bri: 10 });

    emulator.inject({ kind: 'refuse-connections', forMs: 700 });
    for (let i = 0; i < 3; i++) {
      assert.equal((await rejection(client.read('state'))).errorClass, 'unreachable');
    }
    assert.equal(client.state, 'unreachable');
    assert.equal((await rejection(client.setState({ bri: 99 }))).details.attempts, 0);

    await waitFor(() => client.state === 'connected', 5000, 'the probe to reach the device');
    const result = await client.setState({ bri: 55 });

    assert.equal(result.data.bri, 55);
    assert.equal(deviceState(emulator).bri, 55);
    const path = changes.map((change) => change.to);
    assert.deepEqual(path.slice(0, 3), ['connecting', 'connected', 'unreachable']);
    assert.ok(path.includes('probing'));
    assert.equal(path[path.length - 1], 'connected');
    assert.ok(emulator.stats().getsByPath['/json/info'] >= 2, 'no probe reached the device');
  });

  it('live message while unreachable probes at once', async () => {
    // A backoff of a minute: only the live channel's message can start the probe in time.
    harness = await startHarness({
      client: {
        recovery: { backoffBaseMs: 60_000, backoffMaxMs: 60_000, failuresToUnreachable: 1 },
      },
    });
    const { client, emulator, changes } = harness;
    await client.read('info');
    emulator.inject({ kind: 'refuse-connections', count: 1 });
    assert.equal((await rejection(client.read('state'))).errorClass, 'unreachable');
    assert.equal(client.state, 'unreachable');

    client.recordLiveChannel();
    await waitFor(() => client.state === 'connected', 2000, 'the probe to reach the device');

    const probing = changes.find((change) => change.to === 'probing');
    assert.ok(probing, 'no probing state');
    assert.match(probing.reason, /WebSocket/);
  });

  it('live failures keep the announced probe time', async () => {
    harness = await startHarness({
      client: { recovery: { backoffBaseMs: 400, backoffMaxMs: 400, failuresToUnreachable: 1 } },
    });
    const { client, emulator, changes } = harness;
    await client.read('info');
    emulator.inject({ kind: 'refuse-connections', forMs: 60_000 });
    await rejection(client.read('state'));
    const wentUnreachableAt = Date.now();

    // A WebSocket that keeps failing to reconnect reports each failure.
    const refused = new WledError(
      'unreachable',
      messageText('live.connect-failed', { path: '/ws', code: 'ECONNREFUSED' }),
    );
    const reports = setInterval(() => client.recordLiveChannel(refused), 50);
    try {
      await waitFor(() => changes.some((change) => change.to === 'probing'), 1000, 'the probe');
    } finally {
      clearInterval(reports);
    }

    assert.ok(Date.now() - wentUnreachableAt < 700, 'the probe was pushed back');
  });

  it('unreachable message keeps the first failure time', async () => {
    harness = await startHarness({
      client: { recovery: { backoffBaseMs: 100, backoffMaxMs: 100, failuresToUnreachable: 1 } },
    });
    const { client, emulator, changes } = harness;
    await client.read('info');
    emulator.inject({ kind: 'refuse-connections', forMs: 60_000 });
    await rejection(client.read('state'));
    const firstFailure = changes.find((change) => change.to === 'unreachable');
    assert.ok(firstFailure);

    await waitFor(
      () => changes.filter((change) => change.to === 'unreachable').length >= 3,
      2000,
      'two failed probes',
    );
    const error = await rejection(client.read('state'));

    const since = Date.parse(/since (\S+),/.exec(error.message)?.[1] ?? '');
    assert.ok(Math.abs(since - firstFailure.at) <= 5, error.message);
  });

  it('queued calls fail when the device becomes unreachable', async () => {
    harness = await startHarness({
      client: {
        recovery: { backoffBaseMs: 60_000, backoffMaxMs: 60_000, failuresToUnreachable: 1 },
      },
    });
    const { client, emulator } = harness;
    await client.read('info');
    emulator.inject({ kind: 'never-answer', count: 3 });

    const first = client.setState({ bri: 1 });
    const queued = client.read('effects');

    assert.equal((await rejection(first)).errorClass, 'timeout');
    const error = await rejection(queued);
    assert.equal(error.errorClass, 'unreachable');
    assert.equal(error.details.attempts, 0);
  });

  it('degraded, back after clean successes', async () => {
    harness = await startHarness({ client: { recovery: { successesToRecover: 3 } } });
    const { client, emulator, changes } = harness;
    await client.read('info');
    emulator.inject({ kind: 'cut-json', count: 1 });

    // The repeat that succeeds is the first clean response.
    await client.read('state');
    assert.equal(client.state, 'degraded');
    const degraded = changes.find((change) => change.to === 'degraded');
    assert.equal(degraded?.errorClass, 'invalid-response');

    await client.read('state');
    assert.equal(client.state, 'degraded');
    await client.read('state');
    assert.equal(client.state, 'connected');
  });

  it('high latency degrades', async () => {
    harness = await startHarness({ client: { recovery: { slowResponseMs: 100 } } });
    const { client, emulator } = harness;
    await client.read('info');
    assert.equal(client.state, 'connected');

    emulator.setLatency(150);
    await client.read('state');

    assert.equal(client.state, 'degraded');
    assert.ok((client.stats().latencyMs ?? 0) > 0);
  });

  it('reboot drops the effect lists', async () => {
    let now = Date.now();
    const device = createDeviceModel({ now: () => now });
    harness = await startHarness({ device });
    const { client, emulator, logger } = harness;
    const reboots: number[] = [];
    client.on('reboot', (info) => reboots.push(info.previousUptime));

    await client.effectLists();
    now += 600_000;
    await client.read('info');
    await emulator.reboot(50);
    await client.read('info');
    await client.effectLists();

    assert.deepEqual(reboots, [600]);
    assert.equal(emulator.stats().getsByPath['/json/eff'], 2);
    assert.equal(emulator.stats().getsByPath['/json/pal'], 2);
    assert.ok(logger.lines.some((line) => /^info test-device: the device rebooted/.test(line)));
  });

  it('reboot seen after recovery', async () => {
    let now = Date.now();
    const device = createDeviceModel({ now: () => now });
    harness = await startHarness({ device, client: { recovery: FAST_RECOVERY } });
    const { client, emulator } = harness;
    await client.effectLists();
    now += 600_000;
    await client.read('full');

    const rebooting = emulator.reboot(600);
    for (let i = 0; i < 3; i++) {
      await rejection(client.read('state'));
    }
    await rebooting;
    await waitFor(() => client.state === 'connected', 5000, 'the probe to reach the device');
    await client.effectLists();

    assert.equal(emulator.stats().getsByPath['/json/eff'], 2);
  });

  it('different device at the address', async () => {
    harness = await startHarness();
    const { client, emulator, changes } = harness;
    await client.setState({ bri: 20 });
    const mac = client.stats().mac;

    emulator.inject({ kind: 'other-device', mac: 'feedfacecafe' } as never);
    await client.read('info');

    assert.equal(client.state, 'wrong-device');
    assert.equal(changes[changes.length - 1].errorClass, 'wrong-device');
    const error = await rejection(client.setState({ bri: 90 }));
    assert.equal(error.errorClass, 'wrong-device');
    assert.match(error.message, /feedfacecafe/);
    assert.match(error.message, new RegExp(mac ?? 'missing'));
    assert.equal(deviceState(emulator).bri, 20);

    const read = await client.read('state');
    assert.equal((read.data as { bri: number }).bri, 20);
    assert.equal(client.stats().mac, mac);
  });

  it('close during a request', async () => {
    harness = await startHarness({ client: { closeGraceMs: 100 } });
    const { client, emulator, changes } = harness;
    await client.read('info');
    emulator.inject({ kind: 'delay-headers', count: 1, delayMs: 1000 });

    const inFlight = client.read('state');
    const queued = client.setState({ bri: 5 });
    await waitFor(() => emulator.stats().current === 1, 2000, 'the request to reach the device');
    const closing = client.close();
    const late = client.read('info');

    const [inFlightError, queuedError, lateError] = await Promise.all([
      rejection(inFlight),
      rejection(queued),
      rejection(late),
    ]);
    await closing;

    assert.equal(inFlightError.errorClass, 'closed');
    assert.equal(queuedError.errorClass, 'closed');
    assert.equal(queuedError.details.attempts, 0);
    assert.equal(lateError.errorClass, 'closed');
    assert.equal(client.state, 'closed');
    assert.deepEqual(
      changes.slice(-2).map((change) => change.to),
      ['closing', 'closed'],
    );
    assert.equal(emulator.stats().postsByPath['/json/state'] ?? 0, 0);
  });

  it('close lets the request on the wire finish', async () => {
    harness = await startHarness({ client: { closeGraceMs: 1000 } });
    const { client, emulator } = harness;
    await client.read('info');
    emulator.setLatency(150);

    const write = client.setState({ bri: 66 });
    await waitFor(() => emulator.stats().current === 1, 2000, 'the request to reach the device');
    await client.close();

    assert.equal((await write).data.bri, 66);
    assert.equal(deviceState(emulator).bri, 66);
  });

  it('nothing left after close', async () => {
    const resources = trackResources();
    harness = await startHarness({ client: { recovery: FAST_RECOVERY } });
    const { client, emulator } = harness;
    const transport = (
      client as unknown as { transport: { agent: import('agentkeepalive').HttpAgent } }
    ).transport;
    const closeSignal = (client as unknown as { closeController: AbortController }).closeController
      .signal;

    try {
      await client.effectLists();
      for (let i = 0; i < 20; i++) {
        await Promise.all([client.setState({ bri: i }), client.read('state'), client.read('info')]);
      }
      emulator.inject({ kind: 'keep-alive-idle', delayMs: 5000 });
      await client.read('state');
      assert.equal(client.socketCounts().free, 1, 'a pooled socket should exist before close');

      await client.close();
      const requestsSeen = emulator.stats().requests;

      const status = transport.agent.getCurrentStatus();
      assert.deepEqual(status.sockets, {});
      assert.deepEqual(status.freeSockets, {});
      assert.deepEqual(status.requests, {});
      assert.equal(getEventListeners(closeSignal, 'abort').length, 0);

      await emulator.close();
      harness = undefined;
      // Handles finish closing on later turns of the event loop.
      await settle(() => resources.live().length === 0);
      assert.deepEqual(resources.live(), []);
      assert.equal(emulator.stats().requests, requestsSeen);
    } finally {
      resources.stop();
    }
  });

  it('closed client is inert', async () => {
    const logger = captureLogger();
    const client = new DeviceClient({ name: 'unused', baseUrl: 'http://127.0.0.1:9', logger });

    await client.close();
    await client.close();

    assert.equal(client.state, 'closed');
    assert.equal((await rejection(client.effectLists())).errorClass, 'closed');
    assert.equal(client.stats().requests, 0);
  });
});
