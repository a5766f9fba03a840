import assert from 'node:assert/strict';

import { StateTracker, patchCovers } from '../../src/lib/live/tracker';

function stateWith(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { on: true, bri: 128, ps: -1, seg: [{ id: 0, fx: 0, pal: 0 }], ...fields };
}

describe('live StateTracker', () => {
  let now = 1000;
  const clock = (): number => now;

  beforeEach(() => {
    now = 1000;
  });

  it('marks the first state as the initial resync', () => {
    const tracker = new StateTracker('dev', 2500, clock);
    const event = tracker.observe({ state: stateWith(), info: { uptime: 10 } }, 'websocket');

    assert.equal(event?.resync, 'initial');
    assert.equal(event?.previous, undefined);
    assert.deepEqual(event?.changed, ['bri', 'on', 'ps', 'seg']);
    assert.deepEqual(tracker.latest?.info, { uptime: 10 });
  });

  it('returns nothing when nothing changed', () => {
    const tracker = new StateTracker('dev', 2500, clock);
    tracker.observe({ state: stateWith() }, 'poll');
    assert.equal(tracker.observe({ state: stateWith() }, 'poll'), undefined);
  });

  it('reports a change with the previous state', () => {
    const tracker = new StateTracker('dev', 2500, clock);
    tracker.observe({ state: stateWith() }, 'websocket');
    const event = tracker.observe({ state: stateWith({ bri: 5 }) }, 'websocket');

    assert.deepEqual(event?.changed, ['bri']);
    assert.equal(event?.origin, 'device');
    assert.equal(event?.resync, undefined);
    assert.equal((event?.previous as { bri: number }).bri, 128);
  });

  it('resyncs once after a marked reboot', () => {
    const tracker = new StateTracker('dev', 2500, clock);
    tracker.observe({ state: stateWith(), info: { uptime: 500 } }, 'websocket');
    tracker.markGap();
    tracker.markReboot();
    const event = tracker.observe({ state: stateWith(), info: { uptime: 3 } }, 'websocket');

    assert.equal(event?.resync, 'reboot');
    assert.deepEqual(event?.changed, []);
    assert.equal(tracker.observe({ state: stateWith(), info: { uptime: 4 } }, 'poll'), undefined);
  });

  it('leaves reboot detection to the client', () => {
    const tracker = new StateTracker('dev', 2500, clock);
    tracker.observe({ state: stateWith(), info: { uptime: 500 } }, 'websocket');

    // Uptime going backwards alone is no resync: the client's identity check reports reboots.
    assert.equal(
      tracker.observe({ state: stateWith(), info: { uptime: 3 } }, 'websocket'),
      undefined,
    );
  });

  it('keeps the info age apart from the state age', () => {
    const tracker = new StateTracker('dev', 2500, clock);
    tracker.observe({ state: stateWith(), info: { uptime: 500 } }, 'poll');
    now += 5000;
    const settle = tracker.beginWrite({ bri: 3 });
    settle(stateWith({ bri: 3 }));

    assert.equal(tracker.latest?.updatedAt, 6000);
    assert.equal(tracker.latest?.infoUpdatedAt, 1000);
  });

  it('resyncs once after a gap', () => {
    const tracker = new StateTracker('dev', 2500, clock);
    tracker.observe({ state: stateWith(), info: { uptime: 500 } }, 'websocket');
    tracker.markGap();

    assert.equal(
      tracker.observe({ state: stateWith(), info: { uptime: 520 } }, 'poll')?.resync,
      'reconnect',
    );
    assert.equal(tracker.observe({ state: stateWith(), info: { uptime: 530 } }, 'poll'), undefined);
  });

  it('marks a pushed change of a running write as own', () => {
    const tracker = new StateTracker('dev', 2500, clock);
    tracker.observe({ state: stateWith() }, 'websocket');
    const settle = tracker.beginWrite({ bri: 40 });

    const pushed = tracker.observe({ state: stateWith({ bri: 40 }) }, 'websocket');
    assert.equal(pushed?.origin, 'own-write');
    assert.equal(settle(stateWith({ bri: 40 })), undefined);
  });

  it('marks the write answer as own and the later push as no change', () => {
    const tracker = new StateTracker('dev', 2500, clock);
    tracker.observe({ state: stateWith() }, 'websocket');
    const settle = tracker.beginWrite({ seg: [{ id: 0, fx: 7 }] });

    const answered = settle(stateWith({ seg: [{ id: 0, fx: 7, pal: 0 }] }));
    assert.equal(answered?.origin, 'own-write');
    assert.equal(answered?.source, 'write');
    assert.deepEqual(answered?.changed, ['seg.0.fx']);
    assert.equal(
      tracker.observe({ state: stateWith({ seg: [{ id: 0, fx: 7, pal: 0 }] }) }, 'websocket'),
      undefined,
    );
  });

  it('does not mark fields the write left alone as own', () => {
    const tracker = new StateTracker('dev', 2500, clock);
    tracker.observe({ state: stateWith() }, 'websocket');
    tracker.beginWrite({ bri: 40 });

    const pushed = tracker.observe(
      { state: stateWith({ bri: 40, seg: [{ id: 0, fx: 3, pal: 0 }] }) },
      'websocket',
    );
    assert.equal(pushed?.origin, 'device');
  });

  it('forgets a write after its window', () => {
    const tracker = new StateTracker('dev', 2500, clock);
    tracker.observe({ state: stateWith() }, 'websocket');
    tracker.beginWrite({ bri: 40 })();

    now += 2600;
    const pushed = tracker.observe({ state: stateWith({ bri: 40 }) }, 'websocket');
    assert.equal(pushed?.origin, 'device');
  });

  it('ignores a write answer before the first state', () => {
    const tracker = new StateTracker('dev', 2500, clock);
    assert.equal(tracker.beginWrite({ bri: 1 })(stateWith({ bri: 1 })), undefined);
    assert.equal(tracker.latest, undefined);
  });
});

describe('live patchCovers', () => {
  it('covers the written keys and their side effects', () => {
    assert.equal(patchCovers({ bri: 1 }, 'bri'), true);
    assert.equal(patchCovers({ bri: 1 }, 'on'), true);
    assert.equal(patchCovers({ on: false }, 'bri'), false);
    assert.equal(patchCovers({ bri: 1 }, 'ps'), true);
    assert.equal(patchCovers({ bri: 1 }, 'seg.0.fx'), false);
    assert.equal(patchCovers({ seg: [{ id: 1, fx: 2 }] }, 'seg.0.fx'), true);
  });

  it('covers everything for a preset load', () => {
    assert.equal(patchCovers({ ps: 3 }, 'seg.4.col'), true);
  });
});
