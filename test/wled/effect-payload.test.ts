import assert from 'node:assert/strict';
import vm from 'node:vm';

import {
  buildEffectPatch,
  missingSegments,
  parseEffectInput,
} from '../../src/lib/wled/effect-payload';
import { assertInvalidInput, readFixture } from './helpers';

const LISTS = {
  effects: ['Solid', 'Blink', 'Breathe', 'RSVD', 'Rainbow', 'Rain', 'Rainbow Runner'],
  palettes: ['Default', '* Random Cycle', '* Color 1', 'Party', 'Ocean'],
};

describe('parseEffectInput', () => {
  it('uses the editor settings when the payload carries none', () => {
    const config = {
      effect: 'Rainbow',
      speed: 100,
      intensity: 50,
      palette: 'Party',
      colors: ['#ff0000'],
    };
    for (const payload of [undefined, null, '', '   ', 1733300000000, true]) {
      assert.deepEqual(
        parseEffectInput(config, payload),
        { effect: 'Rainbow', speed: 100, intensity: 50, palette: 'Party', colors: ['ff0000'] },
        `payload ${JSON.stringify(payload)}`,
      );
    }
  });

  it('treats a string payload as an effect', () => {
    assert.deepEqual(parseEffectInput({ effect: 'Solid', speed: 10 }, ' Rainbow '), {
      effect: 'Rainbow',
      speed: 10,
    });
  });

  it('treats a number payload up to 255 as an effect id', () => {
    assert.deepEqual(parseEffectInput({ effect: 'Solid' }, 9), { effect: 9 });
    assert.deepEqual(parseEffectInput({ effect: 'Solid' }, 0), { effect: 0 });
    assert.deepEqual(parseEffectInput({ effect: 'Solid' }, 1733300000000), { effect: 'Solid' });
  });

  it('rejects other number payloads', () => {
    for (const payload of [256, 9.5, -1, Number.NaN]) {
      assertInvalidInput(
        () => parseEffectInput({ effect: 'Solid' }, payload),
        'Invalid effect id',
        'from 0 to 255',
      );
    }
  });

  it('accepts an object from another V8 context', () => {
    const payload: unknown = vm.runInNewContext('({ effect: "Rainbow", speed: 10 })');

    assert.deepEqual(parseEffectInput({}, payload), { effect: 'Rainbow', speed: 10 });
  });

  it('lets payload fields override the editor', () => {
    const config = { effect: 'Solid', speed: 10, intensity: 20, palette: 0, segments: [1] };
    const payload = {
      effect: 4,
      speed: 200,
      palette: 'Ocean',
      colors: [[0, 0, 255], '00ff00'],
      segment: [0, 2],
    };
    assert.deepEqual(parseEffectInput(config, payload), {
      effect: 4,
      speed: 200,
      intensity: 20,
      palette: 'Ocean',
      colors: [[0, 0, 255], '00ff00'],
      segments: [0, 2],
    });
  });

  it('accepts one segment id as a number', () => {
    assert.deepEqual(parseEffectInput({}, { effect: 'Blink', segment: 3 }).segments, [3]);
  });

  it('removes repeated segment ids', () => {
    assert.deepEqual(
      parseEffectInput({}, { effect: 'Blink', segment: [1, 1, 0] }).segments,
      [1, 0],
    );
  });

  it('reads editor text fields', () => {
    const config = {
      effect: '',
      speed: '120',
      intensity: ' ',
      palette: '',
      segments: '0, 2',
    } as never;
    assert.deepEqual(parseEffectInput(config, undefined), { speed: 120, segments: [0, 2] });
  });

  it('accepts a single colour string', () => {
    assert.deepEqual(parseEffectInput({}, { colors: '#00FF00' }).colors, ['00ff00']);
  });

  it('accepts RGBW arrays and 8-digit hex', () => {
    assert.deepEqual(parseEffectInput({}, { colors: [[1, 2, 3, 4], 'ff000080'] }).colors, [
      [1, 2, 3, 4],
      'ff000080',
    ]);
  });

  it('rejects an input with nothing to set', () => {
    assertInvalidInput(() => parseEffectInput({}, undefined), 'Nothing to set');
    assertInvalidInput(() => parseEffectInput({}, { segment: 1 }), 'Nothing to set');
  });

  const errors: Array<[string, unknown, string[]]> = [
    [
      'speed above 255',
      { speed: 256 },
      ['Invalid speed 256 in msg.payload.speed', 'a whole number from 0 to 255'],
    ],
    ['speed as a string', { speed: '100' }, ['Invalid speed "100" in msg.payload.speed']],
    ['negative intensity', { intensity: -1 }, ['Invalid intensity -1 in msg.payload.intensity']],
    ['fractional intensity', { intensity: 1.5 }, ['Invalid intensity 1.5']],
    [
      'effect as boolean',
      { effect: true },
      ['Invalid effect true in msg.payload.effect', 'an effect name or an id'],
    ],
    ['effect id above 255', { effect: 300 }, ['Invalid effect 300']],
    ['palette as object', { palette: {} }, ['Invalid palette {} in msg.payload.palette']],
    [
      'four colours',
      { colors: ['ff0000', 'ff0000', 'ff0000', 'ff0000'] },
      ['Invalid colour list', 'up to 3 colours'],
    ],
    [
      'bare rgb array',
      { colors: [255, 0, 0] },
      ['Invalid colour list [255,0,0]', '["#ff0000", [0, 0, 255]]'],
    ],
    [
      'colour name',
      { colors: ['red'] },
      ['Invalid colour "red" in msg.payload.colors[0]', '"#ff0000"'],
    ],
    [
      'colour with 2 channels',
      { colors: [[1, 2]] },
      ['Invalid colour [1,2] in msg.payload.colors[0]'],
    ],
    [
      'colour channel above 255',
      { colors: ['00ff00', [0, 0, 300]] },
      ['Invalid colour [0,0,300] in msg.payload.colors[1]'],
    ],
    [
      'negative segment',
      { effect: 1, segment: -1 },
      ['Invalid segment id -1 in msg.payload.segment'],
    ],
    [
      'segment as text',
      { effect: 1, segment: '1' },
      ['Invalid segment id "1" in msg.payload.segment'],
    ],
    ['segment list with a fraction', { effect: 1, segment: [0, 1.5] }, ['Invalid segment id 1.5']],
    [
      'misspelt field',
      { efect: 'Rainbow' },
      ['Unknown field "efect" in msg.payload', 'effect, speed'],
    ],
    ['array payload', ['Rainbow'], ['Invalid msg.payload ["Rainbow"]', 'an effect name']],
  ];
  for (const [name, payload, fragments] of errors) {
    it(`rejects ${name}`, () => {
      assertInvalidInput(() => parseEffectInput({}, payload), ...fragments);
    });
  }

  it('rejects invalid editor settings', () => {
    assertInvalidInput(
      () => parseEffectInput({ speed: 999 }, undefined),
      "Invalid speed 999 in the node's speed setting",
    );
    assertInvalidInput(
      () => parseEffectInput({ segments: '0, x' } as never, 'Blink'),
      'Invalid segment id "x" in the node\'s segments setting',
    );
  });
});

describe('buildEffectPatch', () => {
  it('targets the selected segments without ids', () => {
    assert.deepEqual(
      buildEffectPatch({ effect: 'rainbow', speed: 10, intensity: 20, palette: 'party' }, LISTS),
      {
        seg: { fx: 4, sx: 10, ix: 20, pal: 3 },
      },
    );
  });

  it('targets each given segment', () => {
    assert.deepEqual(
      buildEffectPatch({ effect: 1, colors: ['ff0000', [0, 0, 255]], segments: [0, 2] }, LISTS),
      {
        seg: [
          { id: 0, fx: 1, col: ['ff0000', [0, 0, 255]] },
          { id: 2, fx: 1, col: ['ff0000', [0, 0, 255]] },
        ],
      },
    );
  });

  it('sets only the given fields', () => {
    assert.deepEqual(buildEffectPatch({ speed: 0 }, LISTS), { seg: { sx: 0 } });
  });

  it('resolves palette names without the "* " prefix', () => {
    assert.deepEqual(buildEffectPatch({ palette: 'Color 1' }, LISTS), { seg: { pal: 2 } });
  });

  it('rejects an unknown effect with suggestions', () => {
    assertInvalidInput(
      () => buildEffectPatch({ effect: 'rainbw' }, LISTS),
      'Unknown effect "rainbw" on this device. Closest names: "Rainbow", "Rainbow Runner", "Rain"',
    );
  });

  it('rejects an unknown palette', () => {
    assertInvalidInput(
      () => buildEffectPatch({ palette: 'Ocaen' }, LISTS),
      'Unknown palette "Ocaen"',
      '"Ocean"',
    );
  });

  it('rejects a reserved effect id', () => {
    assertInvalidInput(() => buildEffectPatch({ effect: 3 }, LISTS), 'effect id 3 is unused');
  });

  it('resolves names per firmware version', function () {
    const old = readFixture<string[]>('0.13.3-esp8266', 'eff.json');
    const current = readFixture<string[]>('16.0.0-esp32', 'eff.json');
    const palettes = readFixture<string[]>('16.0.0-esp32', 'pal.json');
    if (!old || !current || !palettes) {
      this.skip();
    }
    const settings = parseEffectInput({}, { effect: 'Rolling Balls', palette: 'Traffic Light' });
    const patch = buildEffectPatch(settings, { effects: current, palettes });
    assert.deepEqual(patch, { seg: { fx: 48, pal: palettes.indexOf('Traffic Light') } });
    assertInvalidInput(
      () => buildEffectPatch({ effect: 'Rolling Balls' }, { effects: old, palettes }),
      'Unknown effect "Rolling Balls"',
    );
  });
});

describe('missingSegments', () => {
  const state = { seg: [{ id: 0 }, { id: 2 }] };

  it('lists ids the state lacks', () => {
    assert.deepEqual(missingSegments({ segments: [0, 1, 2, 5] }, state), [1, 5]);
  });

  it('returns nothing without requested ids', () => {
    assert.deepEqual(missingSegments({}, state), []);
  });

  it('returns nothing for a state without segments', () => {
    assert.deepEqual(missingSegments({ segments: [3] }, { on: true }), []);
  });
});
