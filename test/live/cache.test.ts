import assert from 'node:assert/strict';

import { cachedDocument } from '../../src/lib/live/cache';
import type { CachedState } from '../../src/lib/live/types';

const CACHED: CachedState = {
  state: { on: true, bri: 128 },
  info: { ver: '0.15.3' },
  updatedAt: 1000,
  confirmedAt: 5000,
  infoUpdatedAt: 1000,
  source: 'websocket',
};

describe('live cachedDocument', () => {
  it('returns a young state', () => {
    assert.deepEqual(cachedDocument('state', CACHED, 1000, 6000), { on: true, bri: 128 });
  });

  it('counts the state age from its confirmation', () => {
    assert.equal(cachedDocument('state', CACHED, 999, 6000), undefined);
  });

  it('counts the info age on its own', () => {
    assert.equal(cachedDocument('info', CACHED, 1000, 6000), undefined);
    assert.deepEqual(cachedDocument('info', CACHED, 5000, 6000), { ver: '0.15.3' });
  });

  it('never returns other resources', () => {
    assert.equal(cachedDocument('effects', CACHED, 60_000, 6000), undefined);
  });

  it('returns a copy', () => {
    const state = cachedDocument('state', CACHED, 1000, 6000) as { bri: number };
    state.bri = 1;

    assert.equal(CACHED.state.bri, 128);
  });
});
