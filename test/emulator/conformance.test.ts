/**
 * Conformance of the emulator with the captured firmware responses: for every captured
 * profile folder, each endpoint served over loopback HTTP has the keys (in the same order) and
 * value types of the capture. Fixed lists (effects, palettes, fxdata, palx pages, presets) must
 * match byte for byte.
 */

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startEmulator } from '../../src/emulator';
import type { Emulator } from '../../src/emulator/types';

const repoRoot = path.resolve(__dirname, '..', '..');
const fixturesDir = path.join(repoRoot, '..', 'shared', 'wled-fixtures');

function profileFolders(): string[] {
  if (!fs.existsSync(fixturesDir)) return [];
  return fs
    .readdirSync(fixturesDir)
    .filter((name) => fs.existsSync(path.join(fixturesDir, name, 'info.json')))
    .sort();
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Lists where `actual` differs from `expected` in keys, key order or value types. Arrays are
 * compared element by element and must have the same length.
 */
function shapeDifferences(expected: unknown, actual: unknown, at = '$'): string[] {
  const expectedType = typeOf(expected);
  const actualType = typeOf(actual);
  if (expectedType !== actualType) return [`${at}: expected ${expectedType}, got ${actualType}`];

  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) {
      return [`${at}: expected ${expected.length} items, got ${actual.length}`];
    }
    return expected.flatMap((item, i) => shapeDifferences(item, actual[i], `${at}[${i}]`));
  }

  if (expectedType === 'object') {
    const expectedObject = expected as Record<string, unknown>;
    const actualObject = actual as Record<string, unknown>;
    const expectedKeys = Object.keys(expectedObject);
    const actualKeys = Object.keys(actualObject);
    if (expectedKeys.join(',') !== actualKeys.join(',')) {
      return [`${at}: expected keys ${expectedKeys.join(',')}, got ${actualKeys.join(',')}`];
    }
    return expectedKeys.flatMap((key) =>
      shapeDifferences(expectedObject[key], actualObject[key], `${at}.${key}`),
    );
  }
  return [];
}

async function fetchText(
  url: string,
): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

describe('emulator conformance with captured profiles', function () {
  const folders = profileFolders();

  if (folders.length === 0) {
    it('needs the captured fixtures', function () {
      this.skip(); // ../shared/wled-fixtures is not present beside the repository.
    });
    return;
  }

  for (const folder of folders) {
    describe(folder, function () {
      let emulator: Emulator;
      const captured = (file: string) =>
        fs.readFileSync(path.join(fixturesDir, folder, file), 'utf8');
      const hasCapture = (file: string) => fs.existsSync(path.join(fixturesDir, folder, file));

      before(async function () {
        emulator = await startEmulator({ profile: folder, fixturesDir, port: 0 });
      });

      after(async function () {
        await emulator?.close();
      });

      async function assertSameShape(route: string, file: string) {
        const res = await fetchText(emulator.url + route);
        assert.equal(res.status, 200, `${route} status`);
        assert.equal(res.type, 'application/json', `${route} content type`);
        const differences = shapeDifferences(JSON.parse(captured(file)), JSON.parse(res.body));
        assert.deepEqual(differences, [], `${route} differs from ${folder}/${file}`);
        return res.body;
      }

      async function assertSameBytes(route: string, file: string) {
        const res = await fetchText(emulator.url + route);
        assert.equal(res.status, 200, `${route} status`);
        assert.equal(res.body, captured(file), `${route} bytes differ from ${folder}/${file}`);
      }

      it('state matches the capture', async function () {
        const body = await assertSameShape('/json/state', 'state.json');
        assert.equal(body, captured('state.json'), 'the boot state is the captured state');
      });

      it('info has the captured shape', async function () {
        await assertSameShape('/json/info', 'info.json');
      });

      it('si has the captured shape', async function () {
        await assertSameShape('/json/si', 'si.json');
      });

      it('full /json has the captured shape', async function () {
        const body = await assertSameShape('/json', 'json.json');
        const palettes = captured('pal.json');
        assert.ok(body.endsWith(`"palettes":${palettes}}`), 'palettes embedded as raw text');
        assert.ok(body.includes(`"effects":${captured('eff.json')},`), 'effects embedded verbatim');
      });

      it('effect list matches the capture', async function () {
        await assertSameBytes('/json/eff', 'eff.json');
      });

      it('palette list matches the capture', async function () {
        await assertSameBytes('/json/pal', 'pal.json');
      });

      it('fxdata matches or answers 501', async function () {
        if (hasCapture('fxdata.json')) {
          await assertSameBytes('/json/fxdata', 'fxdata.json');
          return;
        }
        const res = await fetchText(`${emulator.url}/json/fxdata`);
        assert.equal(res.status, 501, 'a line without effect metadata answers 501');
      });

      it('palx pages match the capture', async function () {
        if (!hasCapture('palx')) {
          // No palette colours were captured for this line, but the route still returns pages.
          const res = await fetchText(`${emulator.url}/json/palx?page=0`);
          assert.equal(res.status, 200);
          assert.equal(typeof (JSON.parse(res.body) as { m: unknown }).m, 'number');
          return;
        }

        const pages = fs.readdirSync(path.join(fixturesDir, folder, 'palx'));
        assert.ok(pages.length > 0, 'captured pages');
        for (const page of pages) {
          const number = /^page-(\d+)\.json$/.exec(page)?.[1];
          assert.ok(number !== undefined, page);
          await assertSameBytes(`/json/palx?page=${number}`, path.join('palx', page));
        }
      });

      it('presets match the common capture', async function () {
        const presetsFile = path.join('..', 'common', 'presets.json');
        if (!hasCapture(presetsFile)) this.skip();
        await assertSameBytes('/presets.json', presetsFile);
      });

      it('state keeps its shape after changes', async function () {
        const change = {
          on: false,
          bri: 50,
          transition: 3,
          nl: { on: true, dur: 5 },
          udpn: { send: true },
          seg: { fx: 2, sx: 10, col: [[1, 2, 3, 4]] },
          v: true,
        };
        const res = await fetch(`${emulator.url}/json/state`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(change),
        });
        const reply = JSON.parse(await res.text()) as { bri: number };
        assert.equal(reply.bri, 50, 'the change was applied');

        await assertSameShape('/json/state', 'state.json');
        await assertSameShape('/json/si', 'si.json');
      });

      it('counts agree with the lists', async function () {
        const info = JSON.parse((await fetchText(`${emulator.url}/json/info`)).body) as {
          fxcount: number;
          palcount: number;
        };
        const effects = JSON.parse((await fetchText(`${emulator.url}/json/eff`)).body) as unknown[];

        assert.equal(info.fxcount, effects.length);
        assert.equal(info.palcount, JSON.parse(captured('info.json')).palcount);
      });
    });
  }
});
