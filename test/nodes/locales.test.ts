import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { CONNECTION_STATES, statusViewFor } from '../../src/lib/connection-state';
import { MESSAGES } from '../../src/lib/messages';
import { repoRoot } from './helpers';

// The test runtime returns message keys untranslated, so the runtime tests cannot see a
// missing or misspelt key. These checks read the catalogues directly.

const FLOW_TYPES = ['wled-jsonapi-get-state', 'wled-jsonapi-set-state', 'wled-jsonapi-effect'];

function catalogue(type: string): Record<string, unknown> {
  const file = path.join(repoRoot, 'nodes', 'locales', 'en-US', `${type}.json`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

function lookup(messages: Record<string, unknown>, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>(
      (node, part) => (node as Record<string, unknown> | undefined)?.[part],
      messages,
    );
}

/** Returns the keys a source file passes to `RED._(...)` or `translate(...)` as literals. */
function keysUsedIn(file: string): string[] {
  const source = fs.readFileSync(path.join(repoRoot, 'src', file), 'utf8');
  return [...source.matchAll(/(?:RED\._|translate)\(\s*'([^']+)'/g)].map((match) => match[1]);
}

describe('en-US message catalogues', function () {
  it('device catalogue has every status text', () => {
    const messages = catalogue('wled-jsonapi-device');

    for (const state of CONNECTION_STATES) {
      const key = statusViewFor(state).textKey;
      assert.equal(typeof lookup(messages, key), 'string', `${key} is missing`);
    }
  });

  it('device catalogue has the keys its code uses', () => {
    const messages = catalogue('wled-jsonapi-device');
    const keys = [...keysUsedIn('wled-jsonapi-device.ts'), ...keysUsedIn('lib/node/device-hub.ts')];

    assert.ok(keys.length > 0);
    for (const key of keys) {
      assert.equal(typeof lookup(messages, key), 'string', `${key} is missing`);
    }
  });

  it('device catalogue messages equal the table', () => {
    const section = catalogue('wled-jsonapi-device').messages as Record<
      string,
      Record<string, unknown>
    >;
    const flattened: Record<string, unknown> = {};
    for (const [group, entries] of Object.entries(section)) {
      for (const [name, text] of Object.entries(entries)) {
        flattened[`${group}.${name}`] = text;
      }
    }

    // deepEqual also fails on a key present on one side only.
    assert.deepEqual(flattened, MESSAGES);
  });

  for (const type of FLOW_TYPES) {
    it(`${type} has the keys its code uses`, () => {
      const messages = catalogue(type);
      // The shared glue translates with each flow node's own catalogue.
      const keys = [...keysUsedIn(`${type}.ts`), ...keysUsedIn('lib/node/flow-node.ts')];

      assert.ok(keys.length > 0);
      for (const key of keys) {
        assert.equal(typeof lookup(messages, key), 'string', `${key} is missing`);
      }
    });
  }

  it('substitutions match the code', () => {
    const resource = lookup(
      catalogue('wled-jsonapi-get-state'),
      'errors.invalid-resource',
    ) as string;
    assert.match(resource, /__value__/);
    assert.match(resource, /__names__/);

    const source = lookup(catalogue('wled-jsonapi-set-state'), 'errors.source-failed') as string;
    assert.match(source, /__reason__/);

    const failed = lookup(catalogue('wled-jsonapi-device'), 'status.failed') as string;
    assert.match(failed, /__errorClass__/);
  });
});
