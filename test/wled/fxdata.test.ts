import assert from 'node:assert/strict';

import { parseFxData, parseFxDataList } from '../../src/lib/wled/fxdata';
import { FIXTURE_PROFILES, readFixture } from './helpers';

describe('parseFxData', () => {
  it('shows speed, intensity, three colours and the palette for an empty entry', () => {
    const metadata = parseFxData('');
    assert.deepEqual(metadata.sliders, [
      { key: 'sx', label: 'Effect speed' },
      { key: 'ix', label: 'Effect intensity' },
    ]);
    assert.deepEqual(metadata.options, []);
    assert.deepEqual(
      metadata.colors.map((color) => color.slot),
      [0, 1, 2],
    );
    assert.equal(metadata.usesPalette, true);
    assert.equal(metadata.flags.oneD, true);
    assert.deepEqual(metadata.defaults, {});
  });

  it('reads labels, default labels and hidden controls', () => {
    const metadata = parseFxData('!,Duty cycle;!,!;!;01');
    assert.deepEqual(metadata.sliders, [
      { key: 'sx', label: 'Effect speed' },
      { key: 'ix', label: 'Duty cycle' },
    ]);
    assert.deepEqual(metadata.colors, [
      { slot: 0, label: 'Fx' },
      { slot: 1, label: 'Bg' },
    ]);
    assert.equal(metadata.usesPalette, true);
    assert.equal(metadata.paletteLabel, 'Color palette');
    assert.equal(metadata.flags.raw, '01');
  });

  it('reads custom sliders and options', () => {
    const metadata = parseFxData('!,# of dots,,,,,Overlay;!,!,!;!');
    assert.deepEqual(metadata.sliders, [
      { key: 'sx', label: 'Effect speed' },
      { key: 'ix', label: '# of dots' },
    ]);
    assert.deepEqual(metadata.options, [{ key: 'o2', label: 'Overlay' }]);
    assert.equal(metadata.colors.length, 3);
  });

  it('gives default labels to c1-c3 and o1-o3', () => {
    const metadata = parseFxData('!,!,!,!,!,!,!,!;;');
    assert.deepEqual(
      metadata.sliders.map((slider) => slider.label),
      ['Effect speed', 'Effect intensity', 'Custom 1', 'Custom 2', 'Custom 3'],
    );
    assert.deepEqual(
      metadata.options.map((option) => option.key),
      ['o1', 'o2', 'o3'],
    );
    assert.deepEqual(metadata.colors, []);
  });

  it('hides the palette when its field is empty or missing', () => {
    assert.equal(parseFxData('!;!,!;;01').usesPalette, false);
    assert.equal(parseFxData('!,Size;;').usesPalette, false);
    assert.equal(parseFxData('!;!').usesPalette, false);
  });

  it('hides colours when their section is empty', () => {
    const metadata = parseFxData('!;;!');
    assert.deepEqual(metadata.colors, []);
    assert.equal(metadata.usesPalette, true);
  });

  it('reads a custom palette label', () => {
    assert.equal(parseFxData('!;!;Face palette').paletteLabel, 'Face palette');
  });

  it('reads colour labels', () => {
    assert.deepEqual(parseFxData('!,!,,,,,Overlay;Bg,Fx;!;;m12=0').colors, [
      { slot: 0, label: 'Bg' },
      { slot: 1, label: 'Fx' },
    ]);
  });

  it('reads flags', () => {
    const metadata = parseFxData('!,!;!;!;2f');
    assert.deepEqual(metadata.flags, {
      raw: '2f',
      oneD: false,
      twoD: true,
      volume: false,
      frequency: true,
    });
    assert.equal(parseFxData('!;!;!;1v').flags.volume, true);
    assert.equal(parseFxData('!;!;!;;sx=20').flags.raw, '1');
  });

  it('reads defaults', () => {
    assert.deepEqual(parseFxData('Repeat speed;!,!;!;;sx=24,pal=50,o1=1').defaults, {
      sx: 24,
      pal: 50,
      o1: 1,
    });
    assert.deepEqual(parseFxData('!;!;!;1;m12=0,bad,ix=x').defaults, { m12: 0 });
  });

  it('reads defaults placed in the flags section', () => {
    const metadata = parseFxData('Hue speed,Effect speed;;!;pal=11');
    assert.deepEqual(metadata.defaults, { pal: 11 });
    assert.equal(metadata.flags.raw, '1');
  });

  it('drops the name of a full descriptor', () => {
    assert.deepEqual(
      parseFxData('Juggle@!,Trail;!,!,;!;;sx=64,ix=128'),
      parseFxData('!,Trail;!,!,;!;;sx=64,ix=128'),
    );
  });

  it('parses every captured fxdata list', function () {
    const profiles = FIXTURE_PROFILES.filter(
      (profile) => readFixture(profile, 'fxdata.json') !== undefined,
    );
    if (profiles.length === 0) {
      this.skip();
    }
    for (const profile of profiles) {
      const entries = readFixture<string[]>(profile, 'fxdata.json')!;
      const effects = readFixture<string[]>(profile, 'eff.json')!;
      const metadata = parseFxDataList(entries);
      assert.equal(metadata.length, effects.length, `${profile}: one entry per effect`);

      // Solid (id 0) has no metadata; Blink (id 1) labels its intensity slider.
      assert.equal(metadata[0].sliders.length, 2, `${profile} Solid`);
      assert.equal(metadata[1].sliders[1].label, 'Duty cycle', `${profile} Blink`);

      for (const [id, entry] of metadata.entries()) {
        const where = `${profile} effect ${id} ${effects[id]}`;
        assert.ok(entry.sliders.length <= 5, where);
        assert.ok(entry.options.length <= 3, where);
        assert.ok(
          entry.colors.every((color) => color.slot <= 2 && color.label !== ''),
          where,
        );
        assert.ok(/^[0-9vf]+$/.test(entry.flags.raw), `${where}: flags ${entry.flags.raw}`);
        for (const value of Object.values(entry.defaults)) {
          assert.ok(
            Number.isInteger(value) && value >= 0 && value <= 255,
            `${where}: default ${value}`,
          );
        }
      }

      // Matrix effects exist in every 0.14+ list.
      assert.ok(
        metadata.some((entry) => entry.flags.twoD),
        `${profile}: no 2D effect found`,
      );
    }
  });
});
