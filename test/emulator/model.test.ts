import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { createDeviceModel, type DeviceModelOptions } from '../../src/emulator/model';
import type { DeviceModel, ModelResponse } from '../../src/emulator/types';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const repoRoot = path.resolve(__dirname, '..', '..');
const fixturesDir = path.join(repoRoot, '..', 'shared', 'wled-fixtures');
const haveFixtures = fs.existsSync(path.join(fixturesDir, '0.15.3-esp32', 'info.json'));

/** Creates a device with a settable clock and a fixed "random" source (0.5 of the range). */
function makeDevice(options: DeviceModelOptions = {}) {
  const clock = { ms: 1_000_000 };
  const device = createDeviceModel({
    now: () => clock.ms,
    random: () => 0.5,
    fixturesDir,
    ...options,
  });
  return { device, clock };
}

function get(device: DeviceModel, route: string, query = ''): ModelResponse {
  return device.handleGet(route, new URLSearchParams(query));
}

function getJson(device: DeviceModel, route: string, query = ''): Json {
  return JSON.parse(get(device, route, query).body) as Json;
}

function post(device: DeviceModel, body: unknown, route = '/json/state'): ModelResponse {
  return device.handlePost(route, typeof body === 'string' ? body : JSON.stringify(body));
}

function state(device: DeviceModel): Json {
  return getJson(device, '/json/state');
}

function seg0(device: DeviceModel): Json {
  return state(device).seg[0] as Json;
}

function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function requireFixtures(this: Mocha.Context) {
  if (!haveFixtures) this.skip();
}

describe('emulator model: routing', function () {
  it('GET /json embeds raw palette text', function () {
    const { device } = makeDevice();
    const res = get(device, '/json');

    assert.equal(res.status, 200);
    assert.equal(res.contentType, 'application/json');
    assert.ok(res.body.includes('"palettes":[\n"Default","* Random Cycle"'), res.body.slice(-200));
    const doc = JSON.parse(res.body) as Json;
    assert.deepEqual(Object.keys(doc), ['state', 'info', 'effects', 'palettes']);
    assert.equal(doc.effects.length, doc.info.fxcount);
  });

  it('GET /json/ answers the full object', function () {
    const { device } = makeDevice();
    assert.deepEqual(Object.keys(getJson(device, '/json/')), [
      'state',
      'info',
      'effects',
      'palettes',
    ]);
  });

  it('routes by substring in firmware order', function () {
    const { device } = makeDevice();

    assert.equal(getJson(device, '/json/state').on, true);
    assert.equal(getJson(device, '/json/info').name, 'WLED Emulator');
    assert.deepEqual(Object.keys(getJson(device, '/json/si')), ['state', 'info']);
    assert.deepEqual(Object.keys(getJson(device, '/json/xsix')), ['state', 'info']);
    assert.equal(getJson(device, '/json/infostate').on, true, 'state wins over info');
    assert.equal(getJson(device, '/json/effects')[0], 'Solid');
    assert.equal(getJson(device, '/json/palettes')[0], 'Default');
    assert.deepEqual(getJson(device, '/json/nodes'), { nodes: [] });
  });

  it('unknown /json path answers 501 error 4', function () {
    const { device } = makeDevice();
    const res = get(device, '/json/bogus');

    assert.equal(res.status, 501);
    assert.equal(res.body, '{"error":4}');
  });

  it('unknown /json path on 0.14 answers text error', function () {
    requireFixtures.call(this);
    const { device } = makeDevice({ profile: '0.14.4-esp32' });
    const res = get(device, '/json/bogus');

    assert.equal(res.status, 501);
    assert.equal(res.body, '{"error":"Not implemented"}');
  });

  it('non-JSON path answers 404 HTML', function () {
    const { device } = makeDevice();
    const res = get(device, '/nothing-here');

    assert.equal(res.status, 404);
    assert.equal(res.contentType, 'text/html');
  });

  it('serves effects, palettes and fxdata', function () {
    const { device } = makeDevice();
    const info = getJson(device, '/json/info');
    const effects = getJson(device, '/json/eff') as unknown as string[];
    const fxdata = getJson(device, '/json/fxdata') as unknown as string[];
    const palettes = get(device, '/json/pal');

    for (const name of ['Solid', 'Blink', 'Breathe', 'Rainbow', 'Fire 2012', 'Colorloop']) {
      assert.ok(effects.includes(name), name);
    }
    assert.equal(effects.indexOf('Fire 2012'), 66);
    assert.equal(effects.length, info.fxcount);
    assert.equal(fxdata.length, info.fxcount);
    assert.ok(palettes.body.startsWith('[\n"Default"'), 'raw palette text');
    assert.equal((JSON.parse(palettes.body) as string[]).length, info.palcount);
    for (const name of ['Default', '* Random Cycle', 'Party', 'Ocean', 'Lava', 'Forest']) {
      assert.ok(palettes.body.includes(`"${name}"`), name);
    }
  });

  it('pages /json/palx and clamps the page', function () {
    const { device } = makeDevice();
    const first = getJson(device, '/json/palx', 'page=0');
    const last = getJson(device, '/json/palx', `page=${first.m}`);
    const beyond = getJson(device, '/json/palx', 'page=99');

    assert.equal(Object.keys(first.p).length, 8, 'ESP32 pages hold 8 palettes');
    assert.deepEqual(beyond, last);
    assert.deepEqual(first.p['1'], ['r', 'r', 'r', 'r']);
    assert.equal(getJson(device, '/json/palx').m, first.m, 'no page parameter reads page 0');
  });

  it('0.13 answers /json/fxdata with 501', function () {
    requireFixtures.call(this);
    const { device } = makeDevice({ profile: '0.13.3-esp8266' });
    assert.equal(get(device, '/json/fxdata').status, 501);
  });

  it('16.x sends /json/fxdata chunked', function () {
    requireFixtures.call(this);
    const { device } = makeDevice({ profile: '16.0.0-esp32' });
    const res = get(device, '/json/fxdata');

    assert.equal(res.status, 200);
    assert.equal(res.chunked, true);
    assert.equal(get(device, '/json/state').chunked, undefined);
  });

  it('serves /json/live from segment colours', function () {
    const { device } = makeDevice();
    const live = getJson(device, '/json/live');

    assert.equal(live.n, 1);
    assert.equal(live.leds.length, 30);
    assert.equal(live.leds[0], '805000', 'orange at brightness 128');
  });

  it('0.13 answers /json/live with 501', function () {
    requireFixtures.call(this);
    const { device } = makeDevice({ profile: '0.13.3-esp8266' });
    assert.equal(get(device, '/json/live').status, 501);
  });

  it('serves /presets.json', function () {
    const { device } = makeDevice();
    const presets = getJson(device, '/presets.json');

    assert.deepEqual(presets['0'], {});
    assert.ok(presets['1'].seg, 'preset 1 is a state preset');
    assert.ok(presets['3'].playlist, 'preset 3 is a playlist');
  });
});

describe('emulator model: POST', function () {
  it('invalid JSON answers 400 error 9', function () {
    const { device } = makeDevice();
    for (const body of ['{"on":', 'nope', '[1,2]', '7', 'null', '"on"']) {
      const res = post(device, body);
      assert.equal(res.status, 400, body);
      assert.equal(res.body, '{"error":9}', body);
    }
  });

  it('empty body answers 400 with no body', function () {
    const { device } = makeDevice();
    const res = post(device, '');

    assert.equal(res.status, 400);
    assert.equal(res.body, '');
  });

  it('empty object answers success', function () {
    const { device } = makeDevice();
    const res = post(device, {});

    assert.equal(res.status, 200);
    assert.equal(res.body, '{"success":true}');
  });

  it('v:true answers the document of the path', function () {
    const { device } = makeDevice();

    assert.equal(JSON.parse(post(device, { bri: 10, v: true }).body).bri, 10);
    assert.deepEqual(Object.keys(JSON.parse(post(device, { v: true }, '/json').body)), [
      'state',
      'info',
      'effects',
      'palettes',
    ]);
    assert.deepEqual(Object.keys(JSON.parse(post(device, { v: true }, '/json/si').body)), [
      'state',
      'info',
    ]);
  });

  it('v:true on an unknown path applies then answers 501', function () {
    const { device } = makeDevice();
    const res = post(device, { bri: 42, v: true }, '/json/whatever');

    assert.equal(res.status, 501);
    assert.equal(state(device).bri, 42);
  });

  it('v as a string answers success', function () {
    const { device } = makeDevice();
    assert.equal(post(device, { bri: 9, v: 'true' }).body, '{"success":true}');
  });

  it('cfg POST changes no state', function () {
    const { device } = makeDevice();
    const res = post(device, { bri: 3 }, '/json/cfg');

    assert.equal(res.body, '{"success":true}');
    assert.equal(state(device).bri, 128);
  });

  it('document over the JSON buffer answers error 9', function () {
    const { device } = makeDevice();
    const leds = Array.from({ length: 3000 }, () => 'FF0000');
    const res = post(device, { seg: { i: leds } });

    assert.equal(res.status, 400);
    assert.equal(res.body, '{"error":9}');
  });
});

describe('emulator model: on and bri', function () {
  it('bri 0 turns off and keeps last brightness', function () {
    const { device } = makeDevice();
    post(device, { bri: 0 });

    assert.equal(state(device).on, false);
    assert.equal(state(device).bri, 128);
  });

  it('on:true restores the last brightness', function () {
    const { device } = makeDevice();
    post(device, { bri: 77 });
    post(device, { on: false });
    assert.equal(state(device).on, false);

    post(device, { on: true });
    assert.equal(state(device).on, true);
    assert.equal(state(device).bri, 77);
  });

  it('on:"t" toggles', function () {
    const { device } = makeDevice();
    post(device, { on: 't' });
    assert.equal(state(device).on, false);
    post(device, { on: 't' });
    assert.equal(state(device).on, true);
  });

  it('on:"t" with bri turns on once', function () {
    const { device } = makeDevice();
    post(device, { on: false });
    post(device, { on: 't', bri: 32 });

    assert.equal(state(device).on, true);
    assert.equal(state(device).bri, 32);
  });

  it('non-boolean on is ignored', function () {
    const { device } = makeDevice();
    post(device, { on: 0 });
    assert.equal(state(device).on, true);
  });

  it('bri coercions follow ArduinoJson', function () {
    const { device } = makeDevice();

    post(device, { bri: -5 });
    assert.equal(state(device).bri, 128, 'negative ignored');
    post(device, { bri: 1.5 });
    assert.equal(state(device).bri, 128, 'float ignored');
    post(device, { bri: '50' });
    assert.equal(state(device).bri, 50, 'numeric string');
    post(device, { bri: 300 });
    assert.equal(state(device).on, false, 'over 255 becomes 0');
  });

  it('relative bri strings', function () {
    const { device } = makeDevice();

    post(device, { bri: '~' });
    assert.equal(state(device).bri, 129);
    post(device, { bri: '~-' });
    assert.equal(state(device).bri, 128);
    post(device, { bri: '~10' });
    assert.equal(state(device).bri, 138);
    post(device, { bri: '~-10' });
    assert.equal(state(device).bri, 128);
    post(device, { bri: '~500' });
    assert.equal(state(device).bri, 255, 'clamped at 255');
  });

  it('random bri uses the random source', function () {
    const { device } = makeDevice();
    post(device, { bri: 'r' });
    assert.equal(state(device).bri, 127);
  });
});

describe('emulator model: segment values', function () {
  it('relative and wrapping slider strings', function () {
    const { device } = makeDevice();

    post(device, { seg: { sx: 255 } });
    post(device, { seg: { sx: '~' } });
    assert.equal(seg0(device).sx, 0, '~ wraps at the top');
    post(device, { seg: { sx: '~-' } });
    assert.equal(seg0(device).sx, 255, '~- wraps at the bottom');
    post(device, { seg: { ix: '~-10' } });
    assert.equal(seg0(device).ix, 118);
    post(device, { seg: { ix: 'r' } });
    assert.equal(seg0(device).ix, 127);
  });

  it('fx as number or numeric string', function () {
    const { device } = makeDevice();

    post(device, { seg: { fx: 9 } });
    assert.equal(seg0(device).fx, 9);
    post(device, { seg: { fx: '2' } });
    assert.equal(seg0(device).fx, 2);
  });

  it('fx out of range falls back to Solid', function () {
    const { device } = makeDevice();

    post(device, { seg: { fx: 9 } });
    post(device, { seg: { fx: 200 } });
    assert.equal(seg0(device).fx, 0, 'past the list');
    post(device, { seg: { fx: 9 } });
    post(device, { seg: { fx: 300 } });
    assert.equal(seg0(device).fx, 0, 'over 255 becomes 0');
  });

  it('fx on RSVD skips to the next effect', function () {
    const { device } = makeDevice();

    post(device, { seg: { fx: 6 } });
    assert.equal(seg0(device).fx, 7);
    post(device, { seg: { fx: 13 } });
    assert.equal(seg0(device).fx, 66);
    post(device, { seg: { fx: 12 } });
    post(device, { seg: { fx: '~' } });
    assert.equal(seg0(device).fx, 66, '~ steps over reserved ids');
  });

  it('fxdef loads effect defaults', function () {
    const { device } = makeDevice();
    post(device, { seg: { sx: 10, ix: 10, fx: 66, fxdef: true } });

    assert.equal(seg0(device).sx, 10, 'explicit values win over defaults');
    post(device, { seg: { fx: 0 } });
    post(device, { seg: { fx: 66, fxdef: true } });
    assert.equal(seg0(device).sx, 64);
    assert.equal(seg0(device).ix, 160);
    assert.equal(seg0(device).pal, 8);
  });

  it('pal as string and out-of-range fallback', function () {
    const { device } = makeDevice();

    post(device, { seg: { pal: '6' } });
    assert.equal(seg0(device).pal, 6);
    post(device, { seg: { pal: 50 } });
    assert.equal(seg0(device).pal, 0, 'past the built-ins');
    post(device, { seg: { pal: 6 } });
    post(device, { seg: { pal: 255 } });
    assert.equal(seg0(device).pal, 0, 'missing custom palette');
  });

  it('colours as arrays, hex and kelvin', function () {
    const { device } = makeDevice();

    post(device, { seg: { col: [[1, 2, 3], 'FF8000', []] } });
    assert.deepEqual(seg0(device).col, [
      [1, 2, 3],
      [255, 128, 0],
      [0, 0, 0],
    ]);
    post(device, { seg: { col: [0, [], [300, 'x', 5]] } });
    assert.deepEqual(seg0(device).col, [
      [0, 0, 0],
      [255, 128, 0],
      [0, 0, 5],
    ]);
    post(device, { seg: { col: [2700] } });
    const [r, g, b] = seg0(device).col[0] as number[];
    assert.equal(r, 255, 'warm white has full red');
    assert.ok(g > b, `warm white has more green than blue, got ${g} and ${b}`);
  });

  it('colour objects update channels on 0.15', function () {
    const { device } = makeDevice();
    post(device, { seg: { col: [{ g: 9 }] } });
    assert.deepEqual(seg0(device).col[0], [255, 9, 0]);
  });

  it('colour objects are ignored on 0.14', function () {
    requireFixtures.call(this);
    const { device } = makeDevice({ profile: '0.14.4-esp32' });
    post(device, { seg: { col: [{ g: 9 }] } });
    assert.deepEqual(seg0(device).col[0], [255, 160, 0]);
  });

  it('hex RRGGBBWW puts white last', function () {
    requireFixtures.call(this);
    const { device } = makeDevice({ profile: '0.13.3-esp8266' });
    post(device, { seg: { col: ['01020304'] } });
    assert.deepEqual(seg0(device).col[0], [1, 2, 3, 4]);
  });

  it('c3 is clamped to 31', function () {
    const { device } = makeDevice();
    post(device, { seg: { c3: 40 } });
    assert.equal(seg0(device).c3, 31);
  });

  it('wrong types and ranges are ignored', function () {
    const { device } = makeDevice();
    post(device, { transition: '5', seg: { grp: '2', spc: 70000, sx: true, rev: 1 } });

    assert.equal(state(device).transition, 7);
    assert.equal(seg0(device).grp, 1);
    assert.equal(seg0(device).spc, 0);
    assert.equal(seg0(device).sx, 128);
    assert.equal(seg0(device).rev, false);
  });

  it('byte fields over 255 become 0', function () {
    const { device } = makeDevice();
    post(device, { seg: { sx: 256, ix: 1000 } });

    assert.equal(seg0(device).sx, 0);
    assert.equal(seg0(device).ix, 0);
  });

  it('flags toggle with "t" on 0.15', function () {
    const { device } = makeDevice();
    post(device, { seg: { rev: 't', o1: 't', on: 't' } });

    assert.equal(seg0(device).rev, true);
    assert.equal(seg0(device).o1, true);
    assert.equal(seg0(device).on, false);
  });

  it('only on and frz toggle on 0.14', function () {
    requireFixtures.call(this);
    const { device } = makeDevice({ profile: '0.14.4-esp32' });
    post(device, { seg: { rev: 't', frz: 't' } });

    assert.equal(seg0(device).rev, false);
    assert.equal(seg0(device).frz, true);
  });

  it('segment bri 0 turns it off and keeps opacity', function () {
    const { device } = makeDevice();
    post(device, { seg: { bri: 100 } });
    post(device, { seg: { bri: 0 } });

    assert.equal(seg0(device).on, false);
    assert.equal(seg0(device).bri, 100);
    post(device, { seg: { bri: 90 } });
    assert.equal(seg0(device).on, true);
  });

  it('0.13 has no c1 field', function () {
    requireFixtures.call(this);
    const { device } = makeDevice({ profile: '0.13.3-esp8266' });
    post(device, { seg: { c1: 5, sx: 5 } });

    assert.equal(seg0(device).c1, undefined);
    assert.equal(seg0(device).sx, 5);
  });
});

describe('emulator model: segments', function () {
  it('object without id applies to selected segments', function () {
    const { device } = makeDevice();
    post(device, { seg: [{}, { start: 10, stop: 20 }] });
    post(device, { seg: [{ sel: true }, { sel: false }] });
    post(device, { seg: { fx: 9 } });

    const segs = state(device).seg as Json[];
    assert.equal(segs[0].fx, 9);
    assert.equal(segs[1].fx, 0);
  });

  it('0.13 falls back to the main segment', function () {
    requireFixtures.call(this);
    const { device } = makeDevice({ profile: '0.13.3-esp8266' });
    post(device, { seg: { sel: false } });
    post(device, { seg: { fx: 9 } });

    assert.equal(seg0(device).sel, false);
    assert.equal(seg0(device).fx, 9);
  });

  it('0.15 ignores an object when none is selected', function () {
    const { device } = makeDevice();
    post(device, { seg: { sel: false } });
    post(device, { seg: { fx: 9 } });
    assert.equal(seg0(device).fx, 0);
  });

  it('object with id applies to that segment', function () {
    const { device } = makeDevice();
    post(device, { seg: [{}, { start: 10, stop: 20 }] });
    post(device, { seg: { id: 1, fx: 2 } });

    const segs = state(device).seg as Json[];
    assert.equal(segs[0].fx, 0);
    assert.equal(segs[1].fx, 2);
  });

  it('array positions address ids and {} skips', function () {
    const { device } = makeDevice();
    post(device, { seg: [{}, { start: 10, stop: 20 }] });
    post(device, { seg: [{}, { fx: 1 }] });

    const segs = state(device).seg as Json[];
    assert.equal(segs[0].fx, 0);
    assert.equal(segs[1].fx, 1);
  });

  it('unknown id with stop is appended', function () {
    const { device } = makeDevice();
    post(device, { seg: { id: 5, start: 0, stop: 10 } });

    const segs = state(device).seg as Json[];
    assert.deepEqual(
      segs.map((seg) => seg.id),
      [0, 1],
    );
    assert.equal(segs[1].stop, 10);
    assert.deepEqual(getJson(device, '/json/info').leds.seglc, [1, 1]);
  });

  it('unknown id without stop is ignored', function () {
    const { device } = makeDevice();
    post(device, { seg: { id: 3, fx: 2 } });
    assert.equal(state(device).seg.length, 1);
  });

  it('0.13 creates the segment at the given id', function () {
    requireFixtures.call(this);
    const { device } = makeDevice({ profile: '0.13.3-esp8266' });
    post(device, { seg: { id: 5, start: 0, stop: 10 } });

    const segs = state(device).seg as Json[];
    assert.deepEqual(
      segs.map((seg) => seg.id),
      [0, 5],
    );
    assert.deepEqual(getJson(device, '/json/info').leds.seglc, [3, 0, 0, 0, 0, 3]);
  });

  it('id at or over maxseg is ignored', function () {
    const { device } = makeDevice();
    post(device, { seg: { id: 32, start: 0, stop: 10 } });
    assert.equal(state(device).seg.length, 1);
  });

  it('stop 0 deletes and keeps other ids', function () {
    const { device } = makeDevice();
    post(device, { seg: [{ stop: 10 }, { start: 10, stop: 20 }, { start: 20, stop: 30 }] });
    post(device, { mainseg: 1 });
    post(device, { seg: { id: 1, stop: 0 } });

    const doc = state(device);
    assert.deepEqual(
      (doc.seg as Json[]).map((seg) => seg.id),
      [0, 2],
    );
    assert.equal(doc.mainseg, 0, 'main segment moves to 0');
  });

  it('len sets stop and stop is clamped', function () {
    const { device } = makeDevice();
    post(device, { seg: { id: 0, start: 5, len: 10 } });
    assert.equal(seg0(device).stop, 15);
    assert.equal(seg0(device).len, 10);

    post(device, { seg: { id: 0, stop: 500 } });
    assert.equal(seg0(device).stop, 30);
  });

  it('name is set, cleared by "" and by new bounds', function () {
    const { device } = makeDevice();

    post(device, { seg: { n: 'Desk' } });
    assert.equal(seg0(device).n, 'Desk');
    assert.deepEqual(Object.keys(seg0(device)).slice(11, 13), ['set', 'n'], 'n sits before col');
    post(device, { seg: { n: '' } });
    assert.equal(seg0(device).n, undefined);
    post(device, { seg: { n: 'Desk' } });
    post(device, { seg: { stop: 20 } });
    assert.equal(seg0(device).n, undefined);
  });

  it('offset is normalised to the length', function () {
    const { device } = makeDevice();
    post(device, { seg: { of: -5 } });
    assert.equal(seg0(device).of, 25);
    post(device, { seg: { of: 65 } });
    assert.equal(seg0(device).of, 5);
  });

  it('purge renumbers after mass delete', function () {
    const five = {
      seg: [
        { stop: 5 },
        { start: 5, stop: 10 },
        { start: 10, stop: 15 },
        { start: 15, stop: 20 },
        { start: 20, stop: 25 },
      ],
    };
    const ids = (device: DeviceModel) => (state(device).seg as Json[]).map((seg) => seg.id);

    const oneDeleted = makeDevice().device;
    post(oneDeleted, five);
    post(oneDeleted, { seg: [{}, { stop: 0 }] });
    assert.deepEqual(ids(oneDeleted), [0, 2, 3, 4], 'one of five deleted keeps the ids');

    const twoDeleted = makeDevice().device;
    post(twoDeleted, five);
    post(twoDeleted, { mainseg: 4 });
    post(twoDeleted, { seg: [{}, { stop: 0 }, { stop: 0 }] });
    assert.deepEqual(ids(twoDeleted), [0, 1, 2], 'two of five deleted renumbers');
    assert.equal(state(twoDeleted).mainseg, 0);
  });

  it('len alone does not create a segment', function () {
    const { device } = makeDevice();
    post(device, { seg: { id: 1, start: 0, len: 5 } });
    assert.equal(state(device).seg.length, 1);
  });
});

describe('emulator model: top-level fields', function () {
  it('transition is stored and tt is one-shot', function () {
    const { device } = makeDevice();

    post(device, { transition: 20 });
    assert.equal(state(device).transition, 20);
    post(device, { tt: 3, bri: 40 });
    assert.equal(state(device).transition, 20);
    assert.equal(state(device).bri, 40);
  });

  it('lor over 2 becomes 2', function () {
    const { device } = makeDevice();
    post(device, { lor: 5 });
    assert.equal(state(device).lor, 2);
  });

  it('udpn send toggles, recv follows rgrp on 0.15', function () {
    const { device } = makeDevice();

    post(device, { udpn: { send: 't' } });
    assert.equal(state(device).udpn.send, true);
    post(device, { udpn: { recv: false } });
    assert.equal(state(device).udpn.recv, true, 'recv is read-only');
    post(device, { udpn: { rgrp: 0, nn: true } });
    assert.equal(state(device).udpn.recv, false);
  });

  it('udpn recv is writable on 0.14', function () {
    requireFixtures.call(this);
    const { device } = makeDevice({ profile: '0.14.4-esp32' });
    post(device, { udpn: { recv: false } });
    assert.equal(state(device).udpn.recv, false);
  });

  it('nightlight counts down and ends', function () {
    const { device, clock } = makeDevice();

    post(device, { nl: { on: true, dur: 1, tbri: 0 } });
    assert.equal(state(device).nl.on, true);
    assert.equal(state(device).nl.rem, 60);

    clock.ms += 30_000;
    assert.equal(state(device).nl.rem, 30);

    clock.ms += 31_000;
    const doc = state(device);
    assert.equal(doc.nl.on, false);
    assert.equal(doc.nl.rem, -1);
    assert.equal(doc.on, false, 'target brightness 0 turns the light off');
    device.reboot();
  });

  it('nightlight off reports rem -1', function () {
    const { device } = makeDevice();
    post(device, { nl: { on: true } });
    post(device, { nl: { on: false } });
    assert.equal(state(device).nl.rem, -1);
  });
});

describe('emulator model: presets and playlists', function () {
  it('ps applies a preset asynchronously', async function () {
    const { device } = makeDevice();
    const reply = JSON.parse(post(device, { ps: 2, v: true }).body) as Json;

    assert.equal(reply.ps, -1, 'verbose reply precedes the preset load');
    await nextTick();
    const doc = state(device);
    assert.equal(doc.ps, 2);
    assert.equal(doc.bri, 200);
    assert.equal(doc.seg[0].fx, 9);
  });

  it('missing preset reports error 12 once', async function () {
    const { device } = makeDevice();
    post(device, { ps: 42 });
    await nextTick();

    const first = state(device);
    assert.equal(first.error, 12);
    assert.deepEqual(Object.keys(first).slice(2, 5), ['transition', 'error', 'ps']);
    assert.equal(state(device).error, undefined);
  });

  it('snapshot does not clear the error', async function () {
    const { device } = makeDevice();
    post(device, { ps: 42 });
    await nextTick();

    assert.equal(device.snapshot().state.error, 12);
    assert.equal(state(device).error, 12);
  });

  it('any other change resets ps to -1', async function () {
    const { device } = makeDevice();
    post(device, { ps: 1 });
    await nextTick();
    assert.equal(state(device).ps, 1);

    post(device, { seg: { sx: 1 } });
    assert.equal(state(device).ps, -1);
  });

  it('a request that changes nothing keeps ps', async function () {
    const { device } = makeDevice();
    post(device, { ps: 1 });
    await nextTick();
    post(device, { bri: 128, seg: { sel: false } });
    assert.equal(state(device).ps, 1, 'selection is not a change');
    post(device, { nl: { dur: 60 } });
    assert.equal(state(device).ps, -1, 'sending nl is a change');
  });

  it('preset cycle strings step within the range', async function () {
    const { device } = makeDevice();

    post(device, { ps: '1~2~' });
    await nextTick();
    assert.equal(state(device).ps, 1);
    post(device, { ps: '1~2~' });
    await nextTick();
    assert.equal(state(device).ps, 2);
    post(device, { ps: '1~2~' });
    await nextTick();
    assert.equal(state(device).ps, 1, 'wraps to the start');
  });

  it('ps -1 is ignored', async function () {
    const { device } = makeDevice();
    post(device, { ps: -1 });
    await nextTick();
    assert.equal(state(device).error, undefined);
  });

  it('playlist preset runs its entries', async function () {
    const { device } = makeDevice();
    post(device, { ps: 3 });
    await nextTick();

    let doc = state(device);
    assert.equal(doc.pl, 3);
    assert.equal(doc.ps, 1);

    post(device, { np: true });
    doc = state(device);
    assert.equal(doc.ps, 2);
    assert.equal(doc.pl, 3);
    device.reboot();
  });

  it('inline playlist ends after its repeats', async function () {
    const { device } = makeDevice();
    post(device, { playlist: { ps: [1, 2], dur: 100, repeat: 1, end: 2 } });

    assert.equal(state(device).pl, 0);
    assert.equal(state(device).ps, 1);
    post(device, { np: true });
    assert.equal(state(device).ps, 2);
    post(device, { np: true });
    assert.equal(state(device).pl, -1);
    device.reboot();
  });

  it('changing fx unloads the playlist', async function () {
    const { device } = makeDevice();
    post(device, { ps: 3 });
    await nextTick();
    post(device, { seg: { fx: 2 } });

    assert.equal(state(device).pl, -1);
    assert.equal(state(device).ps, -1);
  });

  it('psave and pdel edit presets.json', function () {
    const { device } = makeDevice();

    post(device, { bri: 11, psave: 7, n: 'Dim' });
    const saved = getJson(device, '/presets.json')['7'];
    assert.equal(saved.bri, 11);
    assert.equal(saved.n, 'Dim');
    assert.equal(saved.seg.length, 32, 'unused slots saved as stop 0');
    assert.deepEqual(saved.seg[1], { stop: 0 });
    assert.equal(saved.seg[0].len, undefined);
    assert.deepEqual(Object.keys(saved.seg[0]).slice(11, 13), ['n', 'col']);
    assert.equal(state(device).ps, 7);

    post(device, { pdel: 7 });
    assert.equal(getJson(device, '/presets.json')['7'], undefined);
  });

  it('saved preset applies back', async function () {
    const { device } = makeDevice();
    post(device, { bri: 11, seg: { fx: 9 }, psave: 8 });
    post(device, { bri: 200, seg: { fx: 2 } });
    post(device, { ps: 8 });
    await nextTick();

    assert.equal(state(device).bri, 11);
    assert.equal(seg0(device).fx, 9);
    assert.equal(state(device).ps, 8);
  });

  it('psave with o stores the request', function () {
    const { device } = makeDevice();
    post(device, { seg: { fx: 'r' }, psave: 9, o: true, n: 'Random fx' });

    assert.deepEqual(getJson(device, '/presets.json')['9'], {
      seg: { fx: 'r' },
      n: 'Random fx',
    });
  });
});

describe('emulator model: info and lifecycle', function () {
  it('uptime and time advance with the clock', function () {
    const { device, clock } = makeDevice();
    assert.equal(getJson(device, '/json/info').uptime, 0);

    clock.ms += 72_500;
    const info = getJson(device, '/json/info');
    assert.equal(info.uptime, 72);
    assert.equal(info.time, '1970-1-1, 00:01:12');
  });

  it('reboot resets uptime and state', function () {
    const { device, clock } = makeDevice();
    clock.ms += 10_000;
    post(device, { bri: 3, seg: { fx: 2 } });
    device.reboot();

    assert.equal(getJson(device, '/json/info').uptime, 0);
    assert.equal(state(device).bri, 128);
    assert.equal(seg0(device).fx, 0);
  });

  it('rb:true reboots after the reply', async function () {
    const { device, clock } = makeDevice();
    clock.ms += 10_000;
    post(device, { rb: true });

    assert.equal(getJson(device, '/json/info').uptime, 10);
    await nextTick();
    assert.equal(getJson(device, '/json/info').uptime, 0);
  });

  it('setMac and setWsClients show in info', function () {
    const { device } = makeDevice();
    device.setMac('001122334455');
    device.setWsClients(2);

    const info = getJson(device, '/json/info');
    assert.equal(info.mac, '001122334455');
    assert.equal(info.ws, 2);
  });

  it('leds option sets count and segment', function () {
    const { device } = makeDevice({ leds: 60 });

    assert.equal(getJson(device, '/json/info').leds.count, 60);
    assert.equal(seg0(device).stop, 60);
    assert.equal(seg0(device).len, 60);
  });

  it('built-in profile info', function () {
    const { device } = makeDevice();
    const info = getJson(device, '/json/info');

    assert.equal(device.profile.name, 'builtin');
    assert.equal(device.profile.line, '0.15');
    assert.equal(device.profile.busyBehaviour, 'reply-503');
    assert.equal(info.arch, 'esp32');
    assert.equal(info.mac, 'aabbccddeeff');
    assert.equal(state(device).seg.length, 1);
  });

  it('onChange fires on changes only', async function () {
    const { device } = makeDevice();
    let calls = 0;
    const stop = device.onChange(() => calls++);

    post(device, { bri: 128 });
    assert.equal(calls, 0, 'unchanged state');
    post(device, { bri: 12 });
    assert.equal(calls, 1);
    post(device, { ps: 1 });
    await nextTick();
    assert.ok(calls >= 2, 'preset load notifies');

    stop();
    post(device, { bri: 99 });
    const after = calls;
    post(device, { bri: 98 });
    assert.equal(calls, after, 'listener removed');
  });
});

describe('emulator model: profiles', function () {
  it('derives limits from ver and arch', function () {
    requireFixtures.call(this);
    const cases: Array<[string, Json]> = [
      ['0.13.3-esp8266', { line: '0.13', jsonBufferSize: 10240, busyBehaviour: 'silent' }],
      [
        '0.14.4-esp32',
        { line: '0.14', jsonBufferSize: 24576, busyBehaviour: 'get-503-post-silent' },
      ],
      ['0.15.3-esp32', { line: '0.15', jsonBufferSize: 32767, tcpConnectionLimit: 16 }],
      ['0.15.3-esp8266', { tcpConnectionLimit: 5, wsClientLimit: 3, palxPageSize: 5 }],
      ['16.0.0-esp32', { line: '16', busyBehaviour: 'queue', wsClientLimit: 8 }],
    ];

    for (const [profile, expected] of cases) {
      const { device } = makeDevice({ profile });
      for (const [key, value] of Object.entries(expected)) {
        assert.equal((device.profile as unknown as Json)[key], value, `${profile} ${key}`);
      }
    }
  });

  it('loads a profile by path', function () {
    requireFixtures.call(this);
    const { device } = makeDevice({
      profile: path.join(fixturesDir, '0.14.4-esp32'),
      fixturesDir: undefined,
    });
    assert.equal(device.profile.name, '0.14.4-esp32');
  });

  it('unknown profile throws a clear error', function () {
    assert.throws(() => createDeviceModel({ profile: 'no-such-profile' }), /not found/);
  });
});
