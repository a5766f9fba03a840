import assert from 'node:assert/strict';
import { classifyPatch, mergePatches } from '../../src/lib/wled/state-patch';

describe('state patch classification', () => {
  const absolute: Array<Record<string, unknown>> = [
    { on: true, bri: 128 },
    { bri: 0 },
    { transition: 7, tt: 0 },
    { seg: { fx: 3, sx: 128, col: ['FF0000', [0, 0, 255]] } },
    { seg: [{ id: 1, pal: 5, n: 'Desk~left r' }] },
    { nl: { on: true, dur: 10 } },
    { udpn: { send: false, nn: true } },
    { ps: -1 },
  ];
  for (const patch of absolute) {
    it(`absolute ${JSON.stringify(patch)}`, () => {
      const result = classifyPatch(patch);
      assert.equal(result.replayable, true, result.reasons.join('; '));
    });
  }

  const notReplayable: Array<[Record<string, unknown>, RegExp]> = [
    [{ on: 't' }, /toggle/],
    [{ bri: '~10' }, /relative/],
    [{ bri: '~-' }, /relative/],
    [{ bri: 'w~40' }, /relative/],
    [{ bri: 'r' }, /random/],
    [{ ps: '1~5~' }, /cycling/],
    [{ ps: '4~10r' }, /cycling/],
    [{ seg: { on: 't' } }, /toggle/],
    [{ seg: [{ id: 0, fx: 'r' }] }, /random/],
    [{ seg: [{ id: 0, sx: '~-20' }] }, /relative/],
    [{ seg: { col: ['r'] } }, /random/],
    [{ nl: { on: 't' } }, /toggle/],
    [{ udpn: { send: 't' } }, /toggle/],
    [{ rb: true }, /action/],
    [{ psave: 3, n: 'Evening' }, /action/],
    [{ pdel: 3 }, /action/],
    [{ np: true }, /action/],
    [{ win: 'FX=~' }, /action/],
  ];
  for (const [patch, reason] of notReplayable) {
    it(`barrier ${JSON.stringify(patch)}`, () => {
      const result = classifyPatch(patch);
      assert.equal(result.replayable, false);
      assert.equal(result.mergeable, false);
      assert.match(result.reasons.join('; '), reason);
    });
  }

  it('per-LED writes replayable, not mergeable', () => {
    const result = classifyPatch({ seg: { i: [0, 'FF0000'] } });
    assert.equal(result.replayable, true);
    assert.equal(result.mergeable, false);
  });

  it('preset loads replayable, not mergeable', () => {
    const result = classifyPatch({ ps: 3 });
    assert.equal(result.replayable, true);
    assert.equal(result.mergeable, false);
    assert.match(result.reasons.join(' '), /"ps"/);
  });
});

describe('state patch merging', () => {
  it('top-level keys overwrite', () => {
    assert.deepEqual(mergePatches({ on: true, bri: 10 }, { bri: 20, transition: 0 }), {
      on: true,
      bri: 20,
      transition: 0,
    });
  });

  it('nested objects merge key by key', () => {
    assert.deepEqual(mergePatches({ nl: { dur: 5 } }, { nl: { on: true } }), {
      nl: { dur: 5, on: true },
    });
  });

  it('segments merge by id', () => {
    const merged = mergePatches(
      {
        seg: [
          { id: 0, fx: 1 },
          { id: 2, sx: 10 },
        ],
      },
      {
        seg: [
          { id: 2, sx: 20, ix: 5 },
          { id: 3, on: false },
        ],
      },
    );
    assert.deepEqual(merged, {
      seg: [
        { id: 0, fx: 1 },
        { id: 2, sx: 20, ix: 5 },
        { id: 3, on: false },
      ],
    });
  });

  it('array entry without id is positional', () => {
    const merged = mergePatches({ seg: [{}, { fx: 1 }] }, { seg: [{ id: 1, sx: 9 }] });
    assert.deepEqual(merged, { seg: [{ id: 0 }, { id: 1, fx: 1, sx: 9 }] });
  });

  it('seg objects without id merge', () => {
    assert.deepEqual(mergePatches({ seg: { fx: 1 } }, { seg: { pal: 2 } }), {
      seg: { fx: 1, pal: 2 },
    });
  });

  it('selected-segment object mixed with ids refused', () => {
    assert.equal(mergePatches({ seg: { fx: 1 } }, { seg: [{ id: 1, fx: 2 }] }), undefined);
    assert.equal(mergePatches({ seg: [{ id: 1, fx: 2 }] }, { seg: { fx: 1 } }), undefined);
  });

  it('colour slots merge by position', () => {
    const merged = mergePatches(
      {
        seg: {
          id: 0,
          col: [
            [255, 0, 0],
            [0, 0, 0],
          ],
        },
      },
      { seg: { id: 0, col: [[], [0, 255, 0], [0, 0, 255]] } },
    );
    assert.deepEqual(merged, {
      seg: [
        {
          id: 0,
          col: [
            [255, 0, 0],
            [0, 255, 0],
            [0, 0, 255],
          ],
        },
      ],
    });
  });

  it('inputs left unchanged', () => {
    const earlier = { bri: 1, seg: [{ id: 0, fx: 1 }] };
    const later = { bri: 2, seg: [{ id: 0, fx: 2 }] };
    mergePatches(earlier, later);
    assert.deepEqual(earlier, { bri: 1, seg: [{ id: 0, fx: 1 }] });
    assert.deepEqual(later, { bri: 2, seg: [{ id: 0, fx: 2 }] });
  });
});
