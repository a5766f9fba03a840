import assert from 'node:assert/strict';

import { applyState } from '../../src/lib/client/apply-state';
import { WledError } from '../../src/lib/errors';
import { messageText } from '../../src/lib/messages';
import type { DeviceClientApi } from '../../src/lib/client/types';
import { startHarness, type Harness } from './helpers';

describe('applyState', () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('returns the answer of a plain write', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;

    const { state, readBackError } = await applyState(client, { bri: 12 });

    assert.equal(state.bri, 12);
    assert.equal(readBackError, undefined);
    assert.equal(emulator.stats().getsByPath['/json/state'] ?? 0, 0);
  });

  it('reads the state again after a preset', async () => {
    harness = await startHarness();
    const { client, emulator } = harness;

    const second = await applyState(client, { ps: 2 });
    const first = await applyState(client, { ps: 1 });

    assert.equal(second.state.ps, 2);
    assert.equal(first.state.ps, 1);
    assert.ok((emulator.stats().getsByPath['/json/state'] ?? 0) >= 2);
  });

  it('keeps the write when the read fails', async () => {
    harness = await startHarness();
    const { client } = harness;
    // The real client, except that its reads time out as with a device that stopped responding.
    const failingReads: DeviceClientApi = Object.create(client) as DeviceClientApi;
    const timedOut = messageText('transport.response-timeout', { ms: 1000 });
    failingReads.read = () => Promise.reject(new WledError('timeout', timedOut));

    const { state, readBackError } = await applyState(failingReads, { ps: 1 });

    assert.equal(readBackError?.errorClass, 'timeout');
    assert.equal(typeof state.bri, 'number');
  });
});
