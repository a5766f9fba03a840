import assert from 'node:assert/strict';
import vm from 'node:vm';

import { parseSetStatePayload } from '../../src/lib/wled/set-state-payload';
import { assertInvalidInput, FIXTURE_PROFILES, readFixture } from './helpers';

describe('parseSetStatePayload', () => {
  it('accepts an object from another V8 context', () => {
    // A Node-RED function node builds its objects in a context of its own.
    const payload: unknown = vm.runInNewContext('({ bri: 100, seg: [{ id: 0, fx: 9 }] })');

    // The patch keeps the caller's objects, so it is compared as JSON, not by prototype.
    const patch = JSON.parse(JSON.stringify(parseSetStatePayload(payload))) as unknown;
    assert.deepEqual(patch, { bri: 100, seg: [{ id: 0, fx: 9 }] });
  });

  describe('shorthands', () => {
    const cases: Array<[unknown, Record<string, unknown>]> = [
      [true, { on: true }],
      [false, { on: false }],
      ['on', { on: true }],
      ['off', { on: false }],
      ['toggle', { on: 't' }],
      [' ON ', { on: true }],
      ['Off', { on: false }],
      ['TOGGLE', { on: 't' }],
      [0, { bri: 0 }],
      [1, { bri: 1 }],
      [128, { bri: 128 }],
      [255, { bri: 255 }],
    ];
    for (const [payload, expected] of cases) {
      it(`maps ${JSON.stringify(payload)}`, () => {
        assert.deepEqual(parseSetStatePayload(payload), expected);
      });
    }

    it('rejects an unknown string', () => {
      assertInvalidInput(
        () => parseSetStatePayload('brighter'),
        'Invalid state "brighter" in msg.payload',
        '"toggle"',
      );
    });

    it('rejects a numeric string', () => {
      assertInvalidInput(() => parseSetStatePayload('128'), 'Invalid state "128"');
    });

    for (const value of [256, -1, 12.5, 1733300000000, Number.NaN]) {
      it(`rejects brightness ${value}`, () => {
        assertInvalidInput(
          () => parseSetStatePayload(value),
          `Invalid brightness ${value} in msg.payload`,
          'a whole number from 0 to 255',
        );
      });
    }

    for (const value of [[1, 2], ['on']]) {
      it(`rejects ${JSON.stringify(value)}`, () => {
        assertInvalidInput(
          () => parseSetStatePayload(value),
          'Invalid state',
          '{"on": true, "bri": 128}',
        );
      });
    }

    for (const value of [null, undefined]) {
      it(`rejects ${String(value)} as missing`, () => {
        assertInvalidInput(
          () => parseSetStatePayload(value),
          'Missing state in msg.payload',
          '{"on": true, "bri": 128}',
        );
      });
    }
  });

  describe('state objects', () => {
    it('passes a valid state through unchanged', () => {
      const payload = {
        on: true,
        bri: 200,
        transition: 7,
        tt: 0,
        ps: -1,
        nl: { on: 't', dur: 30, mode: 1, tbri: 0 },
        udpn: { send: false, nn: true, sgrp: 1, rgrp: 255 },
        lor: 2,
        mainseg: 0,
        seg: [
          {
            id: 0,
            fx: 9,
            sx: 128,
            ix: 200,
            pal: 11,
            col: [[255, 0, 0], 'ff00ff', []],
            on: 't',
            rev: false,
          },
        ],
      };
      assert.deepEqual(parseSetStatePayload(payload), payload);
    });

    it('does not modify the input object', () => {
      const payload = { on: true, v: true, seg: { col: ['#ff0000'] } };
      parseSetStatePayload(payload);
      assert.deepEqual(payload, { on: true, v: true, seg: { col: ['#ff0000'] } });
    });

    it('removes v', () => {
      assert.deepEqual(parseSetStatePayload({ on: false, v: true }), { on: false });
    });

    it('rejects an object holding only v', () => {
      assertInvalidInput(
        () => parseSetStatePayload({ v: true }),
        'Empty state object in msg.payload',
      );
    });

    it('rejects an empty object', () => {
      assertInvalidInput(() => parseSetStatePayload({}), 'Empty state object', 'get-state node');
    });

    it('passes unknown keys through', () => {
      const payload = {
        AudioReactive: { on: false },
        futureKey: [1, 2],
        seg: { futureSegKey: 'x' },
      };
      assert.deepEqual(parseSetStatePayload(payload), payload);
    });

    it('accepts relative and random brightness', () => {
      for (const bri of ['~', '~-', '~10', '~-10', 'w~10', 'w~-40', 'r', '128', '0~255~']) {
        assert.deepEqual(parseSetStatePayload({ bri }), { bri }, `bri ${bri}`);
      }
    });

    it('accepts preset forms', () => {
      for (const ps of [-1, 1, 250, '1~5~', '1~5~-', '4~10r', '~', '~-', 'r', '17']) {
        assert.deepEqual(parseSetStatePayload({ ps }), { ps }, `ps ${JSON.stringify(ps)}`);
      }
    });

    it('accepts a single segment object', () => {
      assert.deepEqual(parseSetStatePayload({ seg: { fx: '~', pal: 'r' } }), {
        seg: { fx: '~', pal: 'r' },
      });
    });

    it('accepts colour forms', () => {
      const col = [[255, 160, 0, 20], 'ff00ff00', 2700];
      assert.deepEqual(parseSetStatePayload({ seg: [{ col }] }), { seg: [{ col }] });
      assert.deepEqual(parseSetStatePayload({ seg: [{ col: [{ r: 10, w: 5 }, -1, 'r'] }] }), {
        seg: [{ col: [{ r: 10, w: 5 }, -1, 'r'] }],
      });
    });

    it('removes # from hex colours', () => {
      assert.deepEqual(parseSetStatePayload({ seg: { col: ['#FF0000', '#00ff0080'] } }), {
        seg: { col: ['ff0000', '00ff0080'] },
      });
    });

    it('accepts playlists', () => {
      const payload = {
        playlist: { ps: [1, 2, 3], dur: [30, 30, 60], transition: 7, repeat: 0, end: 0, r: true },
      };
      assert.deepEqual(parseSetStatePayload(payload), payload);
    });

    it('accepts every captured state', function () {
      if (FIXTURE_PROFILES.length === 0) {
        this.skip();
      }
      // A state read from a device, written back, must pass validation.
      for (const profile of FIXTURE_PROFILES) {
        const state = readFixture<Record<string, unknown>>(profile, 'state.json');
        assert.ok(state, `${profile}/state.json is missing`);
        delete state.error;
        assert.doesNotThrow(() => parseSetStatePayload(state), `${profile}/state.json`);
      }
    });
  });

  describe('validation errors', () => {
    const cases: Array<[string, Record<string, unknown>, string[]]> = [
      [
        'brightness above 255',
        { bri: 300 },
        ['Invalid brightness 300 in msg.payload.bri', 'a whole number from 0 to 255'],
      ],
      ['negative brightness', { bri: -5 }, ['Invalid brightness -5 in msg.payload.bri']],
      ['fractional brightness', { bri: 12.5 }, ['Invalid brightness 12.5']],
      ['unknown brightness string', { bri: 'max' }, ['Invalid brightness "max"', '"r" for random']],
      ['numeric brightness string out of range', { bri: '300' }, ['Invalid brightness "300"']],
      ['on as a number', { on: 1 }, ['Invalid power 1 in msg.payload.on', 'true, false or "t"']],
      ['on as "true"', { on: 'true' }, ['Invalid power "true"']],
      [
        'transition too long',
        { transition: 70000 },
        ['Invalid transition 70000 in msg.payload.transition', 'tenths of a second'],
      ],
      ['negative transition', { transition: -1 }, ['Invalid transition -1']],
      ['tt as a string', { tt: '5' }, ['Invalid one-time transition "5" in msg.payload.tt']],
      ['preset above 250', { ps: 251 }, ['Invalid preset 251 in msg.payload.ps', 'from 1 to 250']],
      ['preset below -1', { ps: -2 }, ['Invalid preset -2']],
      ['preset word', { ps: 'next' }, ['Invalid preset "next"']],
      ['preset to save 0', { psave: 0 }, ['Invalid preset to save 0 in msg.payload.psave']],
      [
        'nightlight as a number',
        { nl: 5 },
        ['Invalid nightlight 5 in msg.payload.nl', 'an object'],
      ],
      [
        'nightlight duration 0',
        { nl: { dur: 0 } },
        ['Invalid nightlight duration 0 in msg.payload.nl.dur', 'minutes'],
      ],
      [
        'nightlight mode 4',
        { nl: { mode: 4 } },
        ['Invalid nightlight mode 4 in msg.payload.nl.mode'],
      ],
      [
        'sync send as a number',
        { udpn: { send: 1 } },
        ['Invalid sync send 1 in msg.payload.udpn.send'],
      ],
      [
        'live override 3',
        { lor: 3 },
        ['Invalid live override 3 in msg.payload.lor', 'from 0 to 2'],
      ],
      ['negative main segment', { mainseg: -1 }, ['Invalid main segment -1']],
      [
        'reboot as a string',
        { rb: 'yes' },
        ['Invalid reboot "yes" in msg.payload.rb', 'true or false'],
      ],
      ['seg as a number', { seg: 3 }, ['Invalid segment list 3 in msg.payload.seg']],
      ['seg entry as a number', { seg: [0] }, ['Invalid segment 0 in msg.payload.seg[0]']],
      [
        'negative segment id',
        { seg: [{ id: -1, on: true }] },
        ['Invalid segment id -1 in msg.payload.seg[0].id'],
      ],
      [
        'fractional segment id',
        { seg: { id: 1.5 } },
        ['Invalid segment id 1.5 in msg.payload.seg.id'],
      ],
      [
        'effect id above 255',
        { seg: [{ fx: 300 }] },
        ['Invalid effect id 300 in msg.payload.seg[0].fx'],
      ],
      [
        'effect name in fx',
        { seg: [{ fx: 'Rainbow' }] },
        ['Invalid effect id "Rainbow"', 'effect node'],
      ],
      [
        'palette id negative',
        { seg: [{ pal: -3 }] },
        ['Invalid palette id -3 in msg.payload.seg[0].pal'],
      ],
      ['speed above 255', { seg: { sx: 256 } }, ['Invalid speed 256 in msg.payload.seg.sx']],
      [
        'intensity as boolean',
        { seg: { ix: true } },
        ['Invalid intensity true in msg.payload.seg.ix'],
      ],
      [
        'custom 3 above 31',
        { seg: { c3: 32 } },
        ['Invalid custom 3 32 in msg.payload.seg.c3', 'from 0 to 31'],
      ],
      ['grouping 0', { seg: { grp: 0 } }, ['Invalid grouping 0 in msg.payload.seg.grp']],
      [
        'segment on as a number',
        { seg: { on: 0 } },
        ['Invalid segment power 0 in msg.payload.seg.on'],
      ],
      [
        'colour list not an array',
        { seg: { col: 'ff0000' } },
        ['Invalid colour list "ff0000" in msg.payload.seg.col'],
      ],
      [
        'four colours',
        { seg: { col: ['ff0000', 'ff0000', 'ff0000', 'ff0000'] } },
        ['Invalid colour list'],
      ],
      [
        'colour channel above 255',
        { seg: { col: [[256, 0, 0]] } },
        ['Invalid colour [256,0,0] in msg.payload.seg.col[0]'],
      ],
      [
        'colour with two channels',
        { seg: [{ col: [[], [1, 2]] }] },
        ['Invalid colour [1,2] in msg.payload.seg[0].col[1]'],
      ],
      ['colour name', { seg: { col: ['red'] } }, ['Invalid colour "red"', '"#ff0000"']],
      ['short hex colour', { seg: { col: ['f00'] } }, ['Invalid colour "f00"']],
      [
        'colour object with bad key',
        { seg: { col: [{ x: 1 }] } },
        ['Invalid colour {"x":1}', 'found x: 1'],
      ],
      [
        'colour temperature out of range',
        { seg: { cct: 1000 } },
        ['Invalid colour temperature 1000', 'Kelvin'],
      ],
      [
        'individual LED entry',
        { seg: { i: [0, 'red'] } },
        ['Invalid individual LED entry "red" in msg.payload.seg.i[1]'],
      ],
      [
        'playlist without presets',
        { playlist: { ps: [] } },
        ['Invalid playlist presets [] in msg.payload.playlist.ps'],
      ],
      [
        'playlist preset 0',
        { playlist: { ps: [1, 0] } },
        ['Invalid playlist preset 0 in msg.payload.playlist.ps[1]'],
      ],
      [
        'playlist duration negative',
        { playlist: { ps: [1], dur: -1 } },
        ['Invalid playlist duration -1'],
      ],
    ];

    for (const [name, payload, fragments] of cases) {
      it(`rejects ${name}`, () => {
        assertInvalidInput(
          () => parseSetStatePayload(payload),
          ...fragments,
          'Nothing was sent to the device',
        );
      });
    }
  });
});
