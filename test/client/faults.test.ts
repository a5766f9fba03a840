import assert from 'node:assert/strict';

import {
  TEST_TIMEOUTS,
  deviceState,
  fixturesDir,
  haveFixtures,
  rejection,
  startHarness,
  type Harness,
} from './helpers';

/** Blocks the event loop, so that timers due meanwhile fire in one batch afterwards. */
function blockFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy wait
  }
}

describe('device client: faults', () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('stale keep-alive socket retried once', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('info');
    const idleMs = 100;
    emulator.inject({ kind: 'keep-alive-idle', delayMs: idleMs });

    let staleRounds = 0;
    for (let round = 0; round < 5; round++) {
      await client.read('state');
      // Wake shortly before the proxy's idle close and block past it: the close and the next
      // request then cross, as when a request goes out just as the proxy hangs up.
      await new Promise((resolve) => setTimeout(resolve, idleMs - 20));
      blockFor(40);
      const result = await client.read('state');
      assert.ok(
        result.diagnostics.attempts <= 2,
        `round ${round}: ${result.diagnostics.attempts} attempts`,
      );
      if (result.diagnostics.attempts === 2) {
        staleRounds += 1;
      }
    }

    const stats = client.stats();
    assert.ok(staleRounds >= 1, 'the request never met a closing socket');
    assert.equal(stats.failuresByClass.stale, staleRounds);
    assert.equal(stats.retries, staleRounds);
    assert.equal(client.state, 'connected');
  });

  it('silent close after each response', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('info');
    emulator.inject({ kind: 'silent-close' });

    for (let i = 0; i < 30; i++) {
      if (i % 3 === 0) {
        await client.setState({ bri: i + 1 });
      } else {
        await client.read('state');
      }
    }

    const stats = client.stats();
    assert.equal(stats.retries, stats.failuresByClass.stale ?? 0);
    assert.equal(Object.keys(stats.failuresByClass).filter((name) => name !== 'stale').length, 0);
    assert.equal(deviceState(emulator).bri, 28);
  });

  describe('503 busy per firmware line', () => {
    it('0.15: 503 with Retry-After, retried', async () => {
      harness = await startHarness();
      const { client, emulator } = harness;
      await client.read('info');
      emulator.inject({ kind: 'busy', count: 1 });

      const startedAt = Date.now();
      const result = await client.setState({ on: 't' });

      assert.equal(result.diagnostics.attempts, 2);
      // Retry-After: 1 is honoured.
      assert.ok(Date.now() - startedAt >= 1000);
      assert.equal(deviceState(emulator).on, false);
      assert.equal(client.stats().failuresByClass.overloaded, 1);
      assert.equal(client.state, 'degraded');
    });

    it('0.15: persistent 503 fails as overloaded', async () => {
      harness = await startHarness({ client: { timeouts: { totalMs: 5000 } } });
      const { client, emulator } = harness;
      await client.read('info');
      emulator.inject({ kind: 'busy', count: 5 });

      const error = await rejection(client.read('state'));

      assert.equal(error.errorClass, 'overloaded');
      assert.equal(error.details.status, 503);
      assert.ok((error.details.attempts ?? 0) >= 2);
      assert.ok((error.details.attempts ?? 0) <= 3);
    });

    const lines: Array<[string, string]> = [
      ['0.14.4-esp32', 'GET 503 and silent POST'],
      ['0.13.3-esp8266', 'silent GET and POST'],
      ['16.0.0-esp32', 'unterminated 503 and reset'],
    ];
    for (const [profile, behaviour] of lines) {
      it(`${profile}: ${behaviour}`, async function () {
        if (!haveFixtures) {
          this.skip();
        }
        harness = await startHarness({ emulator: { profile, fixturesDir, receiveTimeoutMs: 300 } });
        const { client, emulator } = harness;
        await client.read('info');

        emulator.inject({ kind: 'busy', count: 1 });
        const read = await client.read('state');
        emulator.inject({ kind: 'busy', count: 1 });
        const write = await client.setState({ bri: 42 });

        assert.equal(read.diagnostics.attempts, 2);
        assert.equal(write.diagnostics.attempts, 2);
        assert.equal(deviceState(emulator).bri, 42);
        assert.equal(client.state, 'degraded');
        const failures = client.stats().failuresByClass;
        const expected = profile.startsWith('16')
          ? { overloaded: 2 }
          : profile.startsWith('0.14')
            ? { overloaded: 1, dropped: 1 }
            : { dropped: 2 };
        assert.deepEqual(failures, expected);
      });
    }
  });

  it('drop on accept retried', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('info');
    emulator.inject({ kind: 'reset-before-response', count: 1 });

    const result = await client.read('state');

    assert.equal(result.diagnostics.attempts, 2);
    assert.equal(client.stats().failuresByClass.dropped, 1);
    assert.equal(client.state, 'degraded');
  });

  it('dropped toggle not re-sent', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('state');
    const before = deviceState(emulator).on;
    emulator.resetStats();
    emulator.inject({ kind: 'reset-before-response', count: 1, path: '/json/state' });

    const error = await rejection(client.setState({ on: 't' }));

    assert.equal(error.errorClass, 'indeterminate');
    assert.match(error.message, /not repeated/);
    assert.equal(emulator.stats().postsByPath['/json/state'], 1);
    assert.equal(deviceState(emulator).on, before);
  });

  for (const kind of ['short-body-fin', 'short-body-rst', 'reset-after-headers'] as const) {
    it(`truncated body (${kind}) retried`, async () => {
      harness = await startHarness();
      const { client, emulator } = harness;
      await client.read('info');

      emulator.inject({ kind, count: 1 });
      const read = await client.read('state');
      emulator.inject({ kind, count: 1 });
      const write = await client.setState({ bri: 33 });

      assert.equal(read.diagnostics.attempts, 2);
      assert.equal(write.diagnostics.attempts, 2);
      assert.equal(write.data.bri, 33);
      assert.equal(client.stats().failuresByClass.truncated, 2);
      assert.equal(client.state, 'degraded');
    });
  }

  it('truncated body twice fails', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('info');
    emulator.inject({ kind: 'short-body-fin', count: 2 });

    const error = await rejection(client.read('state'));

    assert.equal(error.errorClass, 'truncated');
    assert.equal(error.details.attempts, 2);
    assert.equal(error.details.status, undefined);
  });

  it('cut JSON is an invalid response', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('info');

    emulator.inject({ kind: 'cut-json', count: 1 });
    const recovered = await client.read('state');
    emulator.inject({ kind: 'cut-json', count: 2 });
    const error = await rejection(client.read('state'));

    assert.equal(recovered.diagnostics.attempts, 2);
    assert.equal(error.errorClass, 'invalid-response');
    assert.equal(error.details.attempts, 2);
    assert.match(error.message, /not valid JSON/);
    assert.equal(client.state, 'degraded');
  });

  it('HTML error page is an invalid response', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('info');
    emulator.inject({ kind: 'html-error', count: 2 });

    const error = await rejection(client.read('state'));

    assert.equal(error.errorClass, 'invalid-response');
    assert.match(error.message, /check that the address points at a WLED device/);
  });

  it('padded chunk sizes are a protocol error', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('info');
    emulator.inject({ kind: 'padded-chunks', count: 1 });

    const error = await rejection(client.read('state'));

    assert.equal(error.errorClass, 'protocol');
    assert.equal(error.details.code, 'HPE_INVALID_CHUNK_SIZE');
    assert.equal(error.details.attempts, 1);
    assert.equal(client.state, 'connected');
  });

  it('padded chunk sizes read with lenient parser', async () => {
    harness = await startHarness({ client: { lenientParser: true } });
    const { client, emulator } = harness;
    await client.read('info');
    emulator.inject({ kind: 'padded-chunks', count: 1 });

    const result = await client.read('state');

    // The same fault fails as a protocol error without the option (the test above).
    assert.equal((result.data as { bri: number }).bri, deviceState(emulator).bri);
    assert.equal(result.diagnostics.attempts, 1);
  });

  it('never answers: read times out', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('info');
    emulator.inject({ kind: 'never-answer', count: 1 });

    const recovered = await client.read('state');
    emulator.inject({ kind: 'never-answer', count: 2 });
    const startedAt = Date.now();
    const error = await rejection(client.read('state'));

    assert.equal(recovered.diagnostics.attempts, 2);
    assert.equal(error.errorClass, 'timeout');
    assert.equal(error.details.attempts, 2);
    assert.ok(Date.now() - startedAt >= TEST_TIMEOUTS.responseMs);
    assert.match(error.message, new RegExp(`${TEST_TIMEOUTS.responseMs} ms`));
  });

  it('never answers: write not repeated', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('info');
    emulator.resetStats();
    emulator.inject({ kind: 'never-answer', count: 1, path: '/json/state' });

    const error = await rejection(client.setState({ bri: 12 }));

    assert.equal(error.errorClass, 'timeout');
    assert.equal(error.details.attempts, 1);
    assert.equal(emulator.stats().postsByPath['/json/state'], 1);
  });

  it('trickling body hits the total deadline', async () => {
    harness = await startHarness({ client: { timeouts: { totalMs: 1200 } } });
    const { client, emulator } = harness;
    await client.read('info');
    // Ten pieces 300 ms apart: never silent for the response limit, done only after 3 s.
    emulator.inject({ kind: 'trickle-body', count: 1, delayMs: 300 });

    const startedAt = Date.now();
    const error = await rejection(client.read('state'));
    const elapsed = Date.now() - startedAt;

    assert.equal(error.errorClass, 'timeout');
    assert.match(error.message, /within 1200 ms/);
    assert.ok(elapsed >= 1150, `failed after ${elapsed} ms`);
    assert.ok(elapsed < 2900, `failed after ${elapsed} ms`);
  });

  it('toggle that reached the device not re-sent', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('state');
    const before = deviceState(emulator).on;
    emulator.resetStats();
    emulator.inject({ kind: 'reset-after-headers', count: 1, path: '/json/state' });

    const result = await client.setState({ on: 't' });

    assert.equal(emulator.stats().postsByPath['/json/state'], 1);
    assert.equal(deviceState(emulator).on, !before);
    assert.equal(result.data.on, !before);
    assert.equal(result.diagnostics.attempts, 2);
    assert.equal(client.stats().retries, 0);
  });

  it('toggle confirmed while live pushes arrive', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('state');
    const before = deviceState(emulator).on;
    // A live WebSocket pushes each change at once, before the client reads the state back.
    const stopPushes = emulator.device.onChange(() => {
      const { state, info } = emulator.device.snapshot();
      client.observeLiveDocument({ state, info });
    });
    emulator.inject({ kind: 'reset-after-headers', count: 1, path: '/json/state' });

    try {
      const result = await client.setState({ on: 't' });

      assert.equal(result.data.on, !before);
      assert.equal(deviceState(emulator).on, !before);
    } finally {
      stopPushes();
    }
  });

  it('toggle with no known state is indeterminate', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;
    await client.read('info');
    const before = deviceState(emulator).on;
    emulator.inject({ kind: 'short-body-rst', count: 1, path: '/json/state' });

    const error = await rejection(client.setState({ on: 't', bri: '~10' }));

    assert.equal(error.errorClass, 'indeterminate');
    assert.match(error.message, /no earlier state/);
    assert.equal(emulator.stats().postsByPath['/json/state'], 1);
    assert.equal(deviceState(emulator).on, !before);
  });
});
