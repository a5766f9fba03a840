import assert from 'node:assert/strict';

import { changedPaths, parsePathList, pathMatches } from '../../src/lib/live/paths';

describe('live changedPaths', () => {
  const base = {
    on: true,
    bri: 128,
    nl: { on: false, rem: -1 },
    seg: [
      {
        id: 0,
        fx: 0,
        col: [
          [255, 0, 0],
          [0, 0, 0],
        ],
      },
      {
        id: 2,
        fx: 9,
        col: [
          [0, 0, 255],
          [0, 0, 0],
        ],
      },
    ],
  };

  it('returns nothing for equal states', () => {
    assert.deepEqual(changedPaths(base, structuredClone(base)), []);
  });

  it('ignores key order', () => {
    const reordered = { seg: base.seg, nl: { rem: -1, on: false }, bri: 128, on: true };
    assert.deepEqual(changedPaths(base, reordered), []);
  });

  it('lists top-level and nested fields', () => {
    const next = structuredClone(base);
    next.bri = 10;
    next.nl.rem = 30;
    assert.deepEqual(changedPaths(base, next), ['bri', 'nl.rem']);
  });

  it('keys segments by id', () => {
    const next = structuredClone(base);
    next.seg[1].fx = 12;
    assert.deepEqual(changedPaths(base, next), ['seg.2.fx']);
  });

  it('reports a colour array as one path', () => {
    const next = structuredClone(base);
    next.seg[0].col[0] = [0, 255, 0];
    assert.deepEqual(changedPaths(base, next), ['seg.0.col']);
  });

  it('reports added and removed segments whole', () => {
    const next = structuredClone(base);
    next.seg = [next.seg[0], { id: 1, fx: 0, col: [] }];
    assert.deepEqual(changedPaths(base, next), ['seg.1', 'seg.2']);
  });

  it('reports added and removed keys', () => {
    const next: Record<string, unknown> = structuredClone(base);
    delete next.nl;
    next.lor = 1;
    assert.deepEqual(changedPaths(base, next), ['lor', 'nl']);
  });
});

describe('live pathMatches', () => {
  const cases: Array<[string, string, boolean]> = [
    ['bri', 'bri', true],
    ['bri', 'on', false],
    ['seg', 'seg.0.fx', true],
    ['seg.0', 'seg.0.fx', true],
    ['seg.0', 'seg.10.fx', false],
    ['seg.*.fx', 'seg.3.fx', true],
    ['seg.*.fx', 'seg.3.pal', false],
    ['seg.0.fx', 'seg.0', false],
    ['nl', 'nl.rem', true],
  ];
  for (const [pattern, path, expected] of cases) {
    it(`${pattern} ${expected ? 'selects' : 'skips'} ${path}`, () => {
      assert.equal(pathMatches(pattern, path), expected);
    });
  }
});

describe('live parsePathList', () => {
  it('splits on commas and spaces', () => {
    assert.deepEqual(parsePathList(' on, bri  seg.0.fx,,'), ['on', 'bri', 'seg.0.fx']);
  });

  it('returns nothing for empty text', () => {
    assert.deepEqual(parsePathList('  '), []);
  });
});
