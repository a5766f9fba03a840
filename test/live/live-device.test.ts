import assert from 'node:assert/strict';
import WebSocket from 'ws';

import type { Emulator } from '../../src/emulator/types';
import { DeviceClient } from '../../src/lib/client';
import { WledError } from '../../src/lib/errors';
import { messageText } from '../../src/lib/messages';
import type { LiveDevice } from '../../src/lib/live';
import {
  FAST_LIVE,
  MemoryLogger,
  Recorder,
  clientFor,
  liveFor,
  otherWebSocketClient,
  postState,
  resourceCounts,
  startFastEmulator,
  waitFor,
} from './helpers';

describe('live device feed', function () {
  let emulator: Emulator;
  let client: DeviceClient;
  let live: LiveDevice;
  let logger: MemoryLogger;

  async function start(): Promise<Recorder> {
    emulator = await startFastEmulator();
    logger = new MemoryLogger();
    client = clientFor(emulator, logger);
    live = liveFor(emulator, client, logger);
    const recorder = new Recorder();
    live.subscribe(recorder);
    await recorder.event((event) => event.resync === 'initial', 'the initial state');
    return recorder;
  }

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      // eslint-disable-next-line no-console
      console.log(logger.lines.join('\n'));
    }
    await live?.close();
    await client?.close();
    await emulator?.close();
  });

  it('sends the initial state over the WebSocket', async () => {
    const recorder = await start();

    assert.equal(live.mode, 'websocket');
    assert.equal(recorder.events[0].source, 'websocket');
    assert.equal(emulator.stats().wsClients, 1);
    assert.equal(live.latest?.state.bri, 128);
  });

  it('reports an HTTP change as one event', async () => {
    const recorder = await start();
    const before = recorder.events.length;

    await postState(emulator, { bri: 42 });
    const event = await recorder.event(
      (candidate) => candidate.state.bri === 42,
      'the bri change',
      before,
    );

    assert.deepEqual(event.changed, ['bri']);
    assert.equal(event.origin, 'device');
    assert.equal((event.previous as { bri: number }).bri, 128);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(recorder.events.length, before + 1);
  });

  it('marks changes of its own writes', async () => {
    const recorder = await start();
    const before = recorder.events.length;

    const settle = live.beginWrite({ seg: [{ id: 0, fx: 9 }] });
    const { data } = await client.setState({ seg: [{ id: 0, fx: 9 }] });
    settle(data);
    const own = await recorder.event(
      (event) => event.changed.includes('seg.0.fx'),
      'the own fx change',
      before,
    );
    assert.equal(own.origin, 'own-write');

    await postState(emulator, { on: false });
    const foreign = await recorder.event(
      (event) => event.changed.includes('on'),
      'the foreign change',
      before,
    );
    assert.equal(foreign.origin, 'device');
  });

  it('keeps its own copy of a write response', async () => {
    const recorder = await start();
    const before = recorder.events.length;

    const settle = live.beginWrite({ bri: 91 });
    const { data } = await client.setState({ bri: 91 });
    settle(data);
    await recorder.event((event) => event.changed.includes('bri'), 'the own change', before);
    // The response is also a set-state node's msg.payload, which a later node may edit.
    (data as { bri: number }).bri = 555;

    assert.equal(live.latest?.state.bri, 91);
  });

  it('keeps a quiet WebSocket open', async () => {
    const recorder = await start();

    // Five heartbeat gaps without a state change: the pings' pongs keep the socket alive.
    await new Promise((resolve) => setTimeout(resolve, 5 * FAST_LIVE.heartbeatMs));
    assert.equal(live.mode, 'websocket');
    assert.equal(live.stats().webSocketOpens, 1);
    assert.equal(live.stats().polls, 0);
    assert.equal(recorder.modes.at(-1)?.to, 'websocket');
  });

  it('polls instead of reconnecting after an eviction', async () => {
    const recorder = await start();
    const before = recorder.modes.length;

    // The firmware closes its oldest client, this feed, once more than its limit are connected.
    const limit = emulator.device.profile.wsClientLimit;
    const others: WebSocket[] = [];
    for (let index = 0; index < limit; index += 1) {
      others.push(await otherWebSocketClient(emulator));
    }
    await recorder.reachedMode('polling', before);
    await new Promise((resolve) => setTimeout(resolve, 5 * FAST_LIVE.pollIntervalMs));

    assert.equal(live.mode, 'polling');
    assert.equal(live.stats().clientLimitReached, true);
    assert.equal(live.stats().webSocketOpens, 1, 'the feed reconnected while the device was full');
    assert.ok(
      others.every((other) => other.readyState === WebSocket.OPEN),
      'a reconnect pushed out another client',
    );
    assert.ok(
      logger.lines.some((line) =>
        /^log test device: live state websocket -> polling: the device closed the WebSocket .*oldest client/.test(
          line,
        ),
      ),
      'the decision is logged with the device name',
    );

    // A free slot brings the WebSocket back without pushing anyone out.
    others[0].close();
    await recorder.reachedMode('websocket', before);
    assert.ok(others.slice(1).every((other) => other.readyState === WebSocket.OPEN));
    assert.equal(live.stats().clientLimitReached, false);
    for (const other of others) {
      other.close();
    }
  });

  it('frees the slot of a client it pushed out', async () => {
    emulator = await startFastEmulator();
    logger = new MemoryLogger();
    client = clientFor(emulator, logger);
    live = liveFor(emulator, client, logger);
    const limit = emulator.device.profile.wsClientLimit;
    const others: WebSocket[] = [];
    for (let index = 0; index < limit; index += 1) {
      others.push(await otherWebSocketClient(emulator));
    }

    const recorder = new Recorder();
    live.subscribe(recorder);
    await recorder.event((event) => event.resync === 'initial', 'the initial state');
    await waitFor(
      () => others[0].readyState === WebSocket.CLOSED,
      'the device to evict the oldest',
    );
    await waitFor(
      () => emulator.stats().wsClients === limit - 1,
      'the feed to close its own socket and leave the slot free',
    );
    assert.equal(live.mode, 'polling');

    // The evicted app comes back, and nobody is pushed out for it.
    others[0] = await otherWebSocketClient(emulator);
    await new Promise((resolve) => setTimeout(resolve, 5 * FAST_LIVE.pollIntervalMs));
    assert.ok(others.every((other) => other.readyState === WebSocket.OPEN));
    assert.equal(live.mode, 'polling');
    assert.equal(emulator.stats().wsClients, limit);
    for (const other of others) {
      other.close();
    }
  });

  it('stops on another device seen over the WebSocket', async () => {
    const recorder = await start();
    const before = recorder.modes.length;

    // Only the push carries the other MAC: the feed makes no HTTP request while it is live.
    emulator.inject({ kind: 'other-device', mac: '0123456789ab' });
    await postState(emulator, { bri: 12 });
    await recorder.reachedMode('disconnected', before);

    assert.equal(recorder.modes.at(-1)?.errorClass, 'wrong-device');
    assert.equal(client.state, 'wrong-device');
    await waitFor(() => emulator.stats().wsClients === 0, 'the feed to close its WebSocket');
    assert.ok(
      recorder.events.every((event) => event.state.bri !== 12),
      "the other device's state was reported as this device's",
    );
  });

  it('probes an unreachable device on any push', async () => {
    emulator = await startFastEmulator();
    logger = new MemoryLogger();
    // A long backoff, so that only the push can start the probe within the test.
    client = new DeviceClient({
      name: 'test device',
      baseUrl: emulator.url,
      timeouts: { connectMs: 300, responseMs: 600, totalMs: 900 },
      recovery: { backoffBaseMs: 30_000, backoffMaxMs: 30_000 },
      logger,
    });
    live = liveFor(emulator, client, logger);
    const recorder = new Recorder();
    live.subscribe(recorder);
    await recorder.event((event) => event.resync === 'initial', 'the initial state');

    // Three failed connections, as the WebSocket reports them, make the device unreachable.
    for (let index = 0; index < 3; index += 1) {
      client.recordLiveChannel(
        new WledError(
          'unreachable',
          messageText('live.failed', {
            device: 'test device',
            reason: messageText('transport.connect-failed', { code: 'ECONNREFUSED' }),
          }),
          { device: 'test device' },
        ),
      );
    }
    assert.equal(client.state, 'unreachable');

    await postState(emulator, { bri: 21 });
    await recorder.event((event) => event.state.bri === 21, 'the push');
    await waitFor(() => client.state === 'connected', 'the probe after the push', 2000);
  });

  it('skips a poll that its own full queue rejected', async () => {
    emulator = await startFastEmulator();
    logger = new MemoryLogger();
    client = new DeviceClient({
      name: 'test device',
      baseUrl: emulator.url,
      timeouts: { connectMs: 300, responseMs: 2000, totalMs: 3000 },
      queueLimit: 1,
      logger,
    });
    live = liveFor(emulator, client, logger, { useWebSocket: false });
    const recorder = new Recorder();
    live.subscribe(recorder);
    await recorder.event((event) => event.resync === 'initial', 'the initial state');
    const modesBefore = recorder.modes.length;
    const eventsBefore = recorder.events.length;

    // One slow read on the wire and one in the queue: the next poll finds the queue full.
    emulator.inject({ kind: 'delay-headers', path: '/json/eff', delayMs: 600, count: 2 });
    const reads = Promise.all([client.read('effects'), client.read('palettes')]);
    await waitFor(
      () => (client.stats().failuresByClass.overloaded ?? 0) > 0,
      'a poll rejected by the full queue',
    );
    await reads;
    await new Promise((resolve) => setTimeout(resolve, 3 * FAST_LIVE.pollIntervalMs));

    assert.deepEqual(
      recorder.modes.slice(modesBefore).map((change) => change.to),
      [],
      'the feed changed its mode for a poll that never reached the device',
    );
    assert.equal(recorder.events.slice(eventsBefore).filter((e) => e.resync).length, 0);
    assert.equal(live.stats().pollFailures, 0);
  });

  it('polls only when the WebSocket is turned off', async () => {
    emulator = await startFastEmulator();
    logger = new MemoryLogger();
    client = clientFor(emulator, logger);
    live = liveFor(emulator, client, logger, { useWebSocket: false });
    const recorder = new Recorder();
    live.subscribe(recorder);

    const initial = await recorder.event(
      (event) => event.resync === 'initial',
      'the initial state',
    );
    assert.equal(initial.source, 'poll');
    assert.equal(emulator.stats().wsClients, 0);
    assert.equal(live.mode, 'polling');
  });

  it('polls when WebSocket upgrades are refused', async () => {
    emulator = await startFastEmulator();
    emulator.inject({ kind: 'ws-refuse', forMs: 60_000 });
    logger = new MemoryLogger();
    client = clientFor(emulator, logger);
    live = liveFor(emulator, client, logger);
    const recorder = new Recorder();
    live.subscribe(recorder);

    const initial = await recorder.event(
      (event) => event.resync === 'initial',
      'the initial state',
    );
    assert.equal(initial.source, 'poll');
    assert.equal(live.mode, 'polling');

    await postState(emulator, { bri: 7 });
    const event = await recorder.event(
      (candidate) => candidate.state.bri === 7,
      'the polled change',
    );
    assert.deepEqual(event.changed, ['bri']);
    assert.equal(event.source, 'poll');
    assert.equal(emulator.stats().wsClients, 0);
    assert.match(live.stats().lastFailure?.message ?? '', /HTTP 404/);
  });

  it('shows an unreachable device as disconnected', async () => {
    emulator = await startFastEmulator();
    emulator.inject({ kind: 'ws-refuse', forMs: 60_000 });
    logger = new MemoryLogger();
    client = clientFor(emulator, logger);
    live = liveFor(emulator, client, logger, { pollIntervalMs: 300 });
    client.on('state', (change) => live.followConnectionState(change));
    const recorder = new Recorder();
    live.subscribe(recorder);
    await recorder.reachedMode('polling');
    const before = recorder.events.length;

    live.followConnectionState({
      device: 'test device',
      from: 'connected',
      to: 'unreachable',
      reason: 'test',
      at: Date.now(),
    });
    assert.equal(live.mode, 'disconnected');

    const resync = await recorder.event(
      (event) => event.resync !== undefined,
      'the resync',
      before,
    );
    assert.equal(resync.resync, 'reconnect');
    assert.equal(live.mode, 'polling');
  });

  it('returns to the WebSocket when upgrades work again', async () => {
    emulator = await startFastEmulator();
    emulator.inject({ kind: 'ws-refuse', forMs: 60_000 });
    logger = new MemoryLogger();
    client = clientFor(emulator, logger);
    live = liveFor(emulator, client, logger);
    const recorder = new Recorder();
    live.subscribe(recorder);
    await recorder.reachedMode('polling');

    emulator.clearFaults();
    await recorder.reachedMode('websocket');
    const polls = live.stats().polls;
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(live.stats().polls, polls, 'polling goes on while the WebSocket is live');
  });

  it('detects a silent WebSocket and recovers', async () => {
    const recorder = await start();
    const modesBefore = recorder.modes.length;

    emulator.inject({ kind: 'ws-silent', forMs: 800 });
    await recorder.reachedMode('polling', modesBefore);
    assert.equal(live.stats().lastFailure?.errorClass, 'timeout');

    // A change while the socket is silent still arrives, through the poll.
    const before = recorder.events.length;
    await postState(emulator, { bri: 99 });
    await recorder.event((event) => event.state.bri === 99, 'the change while silent', before);

    const modesAfterPoll = recorder.modes.length;
    await recorder.reachedMode('websocket', modesAfterPoll);
    await postState(emulator, { bri: 100 });
    const pushed = await recorder.event(
      (event) => event.state.bri === 100,
      'the change after recovery',
      before,
    );
    assert.equal(pushed.source, 'websocket');
  });

  it('sends one resync after a reboot', async () => {
    const recorder = await start();
    // The emulator counts uptime in whole seconds, so the last push before the reboot must
    // come after the first second for the uptime to go backwards.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await postState(emulator, { bri: 5 });
    await recorder.event((event) => event.state.bri === 5, 'the change before the reboot');
    const before = recorder.events.length;

    await emulator.reboot(200);
    const resync = await recorder.event(
      (event) => event.resync !== undefined,
      'the resync',
      before,
    );

    assert.equal(resync.resync, 'reboot');
    assert.equal(resync.state.bri, 128);
    assert.ok(resync.changed.includes('bri'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(
      recorder.events.slice(before).filter((event) => event.resync !== undefined).length,
      1,
    );
  });

  it('closes the WebSocket when the last subscriber leaves', async () => {
    emulator = await startFastEmulator();
    logger = new MemoryLogger();
    client = clientFor(emulator, logger);
    live = liveFor(emulator, client, logger);
    const first = new Recorder();
    const second = new Recorder();
    const leaveFirst = live.subscribe(first);
    await first.event((event) => event.resync === 'initial', 'the first subscriber state');

    const leaveSecond = live.subscribe(second);
    const cached = await second.event((event) => event.resync === 'initial', 'the cached state');
    assert.equal(cached.state.bri, 128);
    assert.equal(emulator.stats().wsClients, 1);

    leaveFirst();
    assert.equal(live.mode, 'websocket');
    leaveSecond();
    assert.equal(live.mode, 'stopped');
    await waitFor(
      () => emulator.stats().wsClients === 0,
      'the emulator to see the WebSocket close',
    );
    assert.equal(live.latest, undefined);
  });

  it('leaves nothing running after close', async () => {
    // Mocha starts its timeout timer after the test function returns its promise, so the
    // baseline is taken after the first turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    const baseline = resourceCounts();
    const recorder = await start();
    emulator.inject({ kind: 'ws-refuse', forMs: 60_000 });
    emulator.inject({ kind: 'ws-silent', forMs: 60_000 });
    await recorder.reachedMode('polling');

    await live.close();
    await client.close();
    await emulator.close();

    await waitFor(
      () =>
        resourceCounts().sockets <= baseline.sockets && resourceCounts().timers <= baseline.timers,
      `sockets and timers back to ${JSON.stringify(baseline)} (now ${JSON.stringify(resourceCounts())})`,
    );
    assert.equal(live.mode, 'stopped');
  });
});
