import assert from 'node:assert/strict';

import { backoffDelay, DEFAULT_RECOVERY } from '../../src/lib/client/lifecycle';
import { DEFAULT_LIVE_SETTINGS } from '../../src/lib/live';

describe('shared backoff', () => {
  const options = { backoffBaseMs: 100, backoffMaxMs: 400 };

  it('doubles the step up to the maximum', () => {
    const delays: number[] = [];
    let step = 0;
    for (let failure = 0; failure < 4; failure += 1) {
      const result = backoffDelay(step, options, () => 1);
      delays.push(result.delayMs);
      step = result.nextStep;
    }

    assert.deepEqual(delays, [100, 200, 400, 400]);
    assert.equal(step, 2);
  });

  it('waits at least half of the step', () => {
    assert.equal(backoffDelay(1, options, () => 0).delayMs, 100);
  });

  it('gives the feed the client defaults', () => {
    assert.equal(DEFAULT_LIVE_SETTINGS.reconnectBaseMs, DEFAULT_RECOVERY.backoffBaseMs);
    assert.equal(DEFAULT_LIVE_SETTINGS.reconnectMaxMs, DEFAULT_RECOVERY.backoffMaxMs);
  });
});
