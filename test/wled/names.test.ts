import assert from 'node:assert/strict';

import { editDistance, listNames, resolveName, suggestNames } from '../../src/lib/wled/names';
import { assertInvalidInput, FIXTURE_PROFILES, readFixture } from './helpers';

const EFFECTS = [
  'Solid',
  'Blink',
  'Breathe',
  'RSVD',
  'Rainbow',
  'Rain',
  'Rainbow Runner',
  'Theater Rainbow',
  '-',
  'Fire 2012',
];
const PALETTES = ['Default', '* Random Cycle', '* Color 1', '* Colors 1&2', 'Party', 'Ocean'];

describe('resolveName', () => {
  it('matches an exact name', () => {
    assert.equal(resolveName('effect', 'Rainbow', EFFECTS), 4);
  });

  it('matches another case and surrounding spaces', () => {
    assert.equal(resolveName('effect', '  rAINBOW runner ', EFFECTS), 6);
    assert.equal(resolveName('effect', 'fire  2012', EFFECTS), 9);
  });

  it('matches a palette without its "* " prefix', () => {
    assert.equal(resolveName('palette', 'color 1', PALETTES), 2);
    assert.equal(resolveName('palette', '* Colors 1&2', PALETTES), 3);
  });

  it('passes ids in range', () => {
    assert.equal(resolveName('effect', 0, EFFECTS), 0);
    assert.equal(resolveName('effect', 9, EFFECTS), 9);
    assert.equal(resolveName('effect', '7', EFFECTS), 7);
    assert.equal(resolveName('palette', ' 5 ', PALETTES), 5);
  });

  it('passes custom palette ids', () => {
    assert.equal(resolveName('palette', 255, PALETTES), 255);
    assert.equal(resolveName('palette', 246, PALETTES), 246);
  });

  it('passes ids when the list is empty', () => {
    assert.equal(resolveName('effect', 120, []), 120);
  });

  it('rejects an id beyond the list', () => {
    assertInvalidInput(
      () => resolveName('effect', 10, EFFECTS),
      'Unknown effect id 10 on this device',
      'ids 0 to 9',
    );
    assertInvalidInput(() => resolveName('palette', '6', PALETTES), 'Unknown palette id 6');
  });

  it('rejects placeholder ids', () => {
    assertInvalidInput(() => resolveName('effect', 3, EFFECTS), 'effect id 3 is unused', '"RSVD"');
    assertInvalidInput(() => resolveName('effect', 8, EFFECTS), 'effect id 8 is unused', '"-"');
  });

  it('rejects ids that are not bytes', () => {
    assertInvalidInput(() => resolveName('effect', -1, EFFECTS), 'Invalid effect id -1');
    assertInvalidInput(() => resolveName('effect', 2.5, EFFECTS), 'Invalid effect id 2.5');
    assertInvalidInput(
      () => resolveName('palette', 256, []),
      'Invalid palette id 256',
      'from 0 to 255',
    );
  });

  it('does not match placeholder names', () => {
    assertInvalidInput(() => resolveName('effect', 'RSVD', EFFECTS), 'Unknown effect "RSVD"');
    assertInvalidInput(() => resolveName('effect', '-', EFFECTS), 'Unknown effect "-"');
  });

  it('rejects an empty name', () => {
    assertInvalidInput(() => resolveName('effect', '  ', EFFECTS), 'Missing effect');
  });

  it('suggests the closest names for a typo', () => {
    assertInvalidInput(
      () => resolveName('effect', 'rainbw', EFFECTS),
      'Unknown effect "rainbw" on this device. Closest names: "Rainbow", "Rainbow Runner", "Rain"',
    );
  });

  it('reports when no name is similar', () => {
    assertInvalidInput(
      () => resolveName('palette', 'zzzzzz', PALETTES),
      'Unknown palette "zzzzzz" on this device, and no similar names were found among its 6 palettes',
    );
  });

  it('resolves every name of every captured profile', function () {
    if (FIXTURE_PROFILES.length === 0) {
      this.skip();
    }
    for (const profile of FIXTURE_PROFILES) {
      for (const [kind, file] of [
        ['effect', 'eff.json'],
        ['palette', 'pal.json'],
      ] as const) {
        const names = readFixture<string[]>(profile, file);
        assert.ok(names, `${profile}/${file} is missing`);
        for (const { id, name } of listNames(names)) {
          // Duplicate names resolve to their first id.
          assert.equal(
            resolveName(kind, name.toUpperCase(), names),
            names.findIndex((n) => n === name),
            `${profile} ${name}`,
          );
          assert.equal(resolveName(kind, id, names), id);
        }
      }
    }
  });

  it('finds the renamed 0.13 effects by name', function () {
    const old = readFixture<string[]>('0.13.3-esp8266', 'eff.json');
    const current = readFixture<string[]>('0.15.3-esp32', 'eff.json');
    if (!old || !current) {
      this.skip();
    }
    // 0.14 replaced id 48 "Police" with "Rolling Balls".
    assert.equal(resolveName('effect', 'Police', old), 48);
    assert.equal(resolveName('effect', 'Rolling Balls', current), 48);
    assertInvalidInput(() => resolveName('effect', 'Police', current), 'Unknown effect "Police"');
  });
});

describe('suggestNames', () => {
  it('ranks names containing the value first', () => {
    assert.deepEqual(suggestNames('rain', EFFECTS), ['Rain', 'Rainbow', 'Rainbow Runner']);
  });

  it('returns at most three names', () => {
    assert.equal(suggestNames('a', EFFECTS).length, 3);
  });

  it('skips placeholders', () => {
    assert.deepEqual(suggestNames('RSV', ['RSVD', 'RSVP']), ['RSVP']);
  });

  it('finds palettes by a misspelt name', function () {
    const palettes = readFixture<string[]>('0.15.3-esp32', 'pal.json');
    if (!palettes) {
      this.skip();
    }
    assert.equal(suggestNames('ocaen', palettes)[0], 'Ocean');
  });
});

describe('listNames', () => {
  it('drops placeholders and keeps ids', () => {
    assert.deepEqual(listNames(['Solid', 'RSVD', 'Blink', '-', '']), [
      { id: 0, name: 'Solid' },
      { id: 2, name: 'Blink' },
    ]);
  });

  it('drops the seven reserved ids of 0.15.3', function () {
    const effects = readFixture<string[]>('0.15.3-esp32', 'eff.json');
    if (!effects) {
      this.skip();
    }
    assert.equal(listNames(effects).length, effects.length - 7);
  });
});

describe('editDistance', () => {
  it('counts edits', () => {
    assert.equal(editDistance('', ''), 0);
    assert.equal(editDistance('abc', ''), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('rainbw', 'rainbow'), 1);
  });
});
