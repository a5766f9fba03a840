import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { repoRoot } from './helpers';

const examplesDir = path.join(repoRoot, 'examples');

// Core node types the examples may use; anything else would need another package installed.
const CORE_TYPES = new Set([
  'tab',
  'comment',
  'inject',
  'debug',
  'function',
  'switch',
  'delay',
  'catch',
  'change',
]);
// This package's node types, as package.json registers them.
const OWN_TYPES = new Set(
  Object.keys(
    (
      JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
        'node-red': { nodes: object };
      }
    )['node-red'].nodes,
  ),
);

type FlowNode = { id: string; type: string; device?: string; host?: string; wires?: string[][] };

function readExample(file: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as FlowNode[];
}

describe('example flows', function () {
  const files = fs.readdirSync(examplesDir).filter((file) => file.endsWith('.json'));

  it('cover the demo and every node', () => {
    for (const name of [
      'demo',
      'get-state',
      'set-state',
      'effect',
      'dashboard-flood',
      'device-off',
    ]) {
      assert.ok(files.includes(`${name}.json`), `${name}.json is missing`);
    }
  });

  for (const file of files) {
    describe(file, function () {
      const flow = readExample(file);
      const ids = new Set(flow.map((node) => node.id));

      it('starts with a comment node', () => {
        assert.equal(flow[0].type, 'comment');
      });

      it('uses only core nodes and ours', () => {
        for (const node of flow) {
          assert.ok(
            CORE_TYPES.has(node.type) || OWN_TYPES.has(node.type),
            `${node.id} has type ${node.type}`,
          );
        }
      });

      it('wires and devices point at nodes in the file', () => {
        for (const node of flow) {
          for (const target of (node.wires ?? []).flat()) {
            assert.ok(ids.has(target), `${node.id} is wired to missing ${target}`);
          }
          if (node.type.startsWith('wled-jsonapi-') && node.type !== 'wled-jsonapi-device') {
            assert.ok(node.device, `${node.id} names no device`);
            assert.ok(
              ids.has(node.device),
              `${node.id} uses device ${node.device}, which is not in the file`,
            );
          }
        }
      });

      it('talks only to loopback', () => {
        for (const node of flow.filter((entry) => entry.type === 'wled-jsonapi-device')) {
          assert.match(String(node.host), /^127\.0\.0\.1(:\d+)?$/);
        }
      });
    });
  }
});
