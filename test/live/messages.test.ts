import assert from 'node:assert/strict';

import { WledError } from '../../src/lib/errors';
import {
  liveModeMessage,
  liveStatusView,
  parseChangeFilter,
  selectChanges,
  stateChangedMessage,
} from '../../src/lib/live/messages';
import type { LiveEvent } from '../../src/lib/live/types';

function eventWith(fields: Partial<LiveEvent>): LiveEvent {
  return {
    device: 'dev',
    state: { on: true, bri: 10 },
    previous: { on: true, bri: 20 },
    changed: ['bri'],
    origin: 'device',
    source: 'websocket',
    at: 1,
    ...fields,
  };
}

describe('live parseChangeFilter', () => {
  it('reads properties, segment and the own-write switch', () => {
    const filter = parseChangeFilter({
      properties: 'on, bri',
      segment: ' 2 ',
      ignoreOwnWrites: true,
    });
    assert.deepEqual(filter, { properties: ['on', 'bri'], segment: 2, ignoreOwnWrites: true });
  });

  it('treats empty fields as no filter', () => {
    assert.deepEqual(parseChangeFilter({}), { properties: [], ignoreOwnWrites: false });
  });

  for (const segment of ['-1', '1.5', 'main']) {
    it(`rejects segment ${segment}`, () => {
      assert.throws(
        () => parseChangeFilter({ segment }),
        (error: unknown) => error instanceof WledError && error.errorClass === 'invalid-input',
      );
    });
  }
});

describe('live selectChanges', () => {
  it('passes every change without a filter', () => {
    const filter = parseChangeFilter({});
    assert.deepEqual(selectChanges(eventWith({ changed: ['bri', 'seg.0.fx'] }), filter), [
      'bri',
      'seg.0.fx',
    ]);
  });

  it('keeps only the selected properties', () => {
    const filter = parseChangeFilter({ properties: 'on, seg.*.fx' });
    assert.deepEqual(
      selectChanges(eventWith({ changed: ['bri', 'on', 'seg.3.fx', 'seg.3.sx'] }), filter),
      ['on', 'seg.3.fx'],
    );
  });

  it('drops an event whose changes are all filtered out', () => {
    const filter = parseChangeFilter({ properties: 'on' });
    assert.equal(selectChanges(eventWith({ changed: ['bri'] }), filter), undefined);
  });

  it('reads properties inside the segment', () => {
    const filter = parseChangeFilter({ properties: 'fx', segment: '1' });
    assert.deepEqual(
      selectChanges(eventWith({ changed: ['seg.0.fx', 'seg.1.fx', 'seg.1.pal'] }), filter),
      ['seg.1.fx'],
    );
  });

  it('keeps only the segment', () => {
    const filter = parseChangeFilter({ segment: '0' });
    assert.deepEqual(
      selectChanges(eventWith({ changed: ['bri', 'seg.0.col', 'seg.1.col'] }), filter),
      ['seg.0.col'],
    );
  });

  it('drops own writes when asked', () => {
    const filter = parseChangeFilter({ ignoreOwnWrites: true });
    assert.equal(selectChanges(eventWith({ origin: 'own-write' }), filter), undefined);
    assert.deepEqual(selectChanges(eventWith({ origin: 'device' }), filter), ['bri']);
  });

  it('always passes a resync', () => {
    const filter = parseChangeFilter({ properties: 'on', ignoreOwnWrites: true });
    assert.deepEqual(selectChanges(eventWith({ resync: 'reboot', changed: [] }), filter), []);
  });
});

describe('live messages', () => {
  it('builds the output-1 message', () => {
    const msg = stateChangedMessage(eventWith({ resync: 'reconnect', info: { ver: '0.15.3' } }), [
      'bri',
    ]);
    assert.deepEqual(msg, {
      topic: 'dev',
      payload: { on: true, bri: 10 },
      previous: { on: true, bri: 20 },
      changed: ['bri'],
      origin: 'device',
      source: 'websocket',
      resync: 'reconnect',
      info: { ver: '0.15.3' },
    });
  });

  it('leaves out what the event lacks', () => {
    const msg = stateChangedMessage(eventWith({ previous: undefined }), ['bri']);
    assert.equal('previous' in msg, false);
    assert.equal('resync' in msg, false);
    assert.equal('info' in msg, false);
  });

  it('builds the live-mode diagnostics message', () => {
    const msg = liveModeMessage({
      device: 'dev',
      from: 'websocket',
      to: 'disconnected',
      reason: 'the WebSocket closed with code 1006',
      errorClass: 'dropped',
      at: 5,
    });
    assert.equal(msg.topic, 'live-mode');
    assert.equal(msg.payload.event, 'live-mode');
    assert.equal(msg.payload.errorClass, 'dropped');
  });

  it('shows each mode with its own status key', () => {
    assert.equal(liveStatusView('websocket').textKey, 'status.websocket');
    assert.equal(liveStatusView('websocket').fill, 'green');
    assert.equal(liveStatusView('disconnected').fill, 'red');
  });
});
