import assert from 'node:assert/strict';

import type { Emulator } from '../../src/emulator/types';
import {
  allNodes,
  buildFlow,
  capturedProfiles,
  emulatorFor,
  getNode,
  helper,
  Inbox,
  settle,
} from './helpers';

const GET_STATE = { type: 'wled-jsonapi-get-state' as const, resource: 'state' };

describe('wled-jsonapi-get-state node', function () {
  let emulator: Emulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());

  afterEach(async () => {
    await helper.unload();
    await emulator?.close();
  });

  async function loadWith(profile: string, node: Record<string, unknown> = {}) {
    emulator = await emulatorFor(profile);
    await helper.load(allNodes, buildFlow(`127.0.0.1:${emulator.port}`, { ...GET_STATE, ...node }));
    return { out1: new Inbox('out1'), out2: new Inbox('out2'), caught: new Inbox('caught') };
  }

  it('reads the state and keeps the message properties', async () => {
    const { out1 } = await loadWith('builtin');

    getNode('n1').receive({ topic: 'living room', extra: 42 });
    const msg = await out1.at(0);

    const state = msg.payload as Record<string, unknown>;
    assert.equal(typeof state.on, 'boolean');
    assert.equal(typeof state.bri, 'number');
    assert.ok(Array.isArray(state.seg));
    assert.equal(msg.topic, 'living room');
    assert.equal(msg.extra, 42);
  });

  it('reads each resource named in msg.resource', async () => {
    const { out1 } = await loadWith('builtin');
    const node = getNode('n1');

    node.receive({ resource: 'info' });
    const info = (await out1.at(0)).payload as Record<string, unknown>;
    assert.equal(typeof info.ver, 'string');

    node.receive({ resource: 'full' });
    const full = (await out1.at(1)).payload as Record<string, unknown>;
    assert.ok(full.state);
    assert.ok(full.info);

    node.receive({ resource: 'effects' });
    const effects = (await out1.at(2)).payload as string[];
    assert.ok(Array.isArray(effects));
    assert.equal(effects[0], 'Solid');

    node.receive({ resource: 'palettes' });
    assert.ok(Array.isArray((await out1.at(3)).payload));

    node.receive({ resource: 'presets' });
    const presets = (await out1.at(4)).payload as Record<string, unknown>;
    assert.equal(typeof presets, 'object');
    assert.ok(!Array.isArray(presets));

    node.receive({ resource: ' INFO ' });
    const upperCase = (await out1.at(5)).payload as Record<string, unknown>;
    assert.equal(typeof upperCase.ver, 'string');
  });

  it('uses the resource chosen in the editor', async () => {
    const { out1 } = await loadWith('builtin', { resource: 'info' });

    getNode('n1').receive({});

    const info = (await out1.at(0)).payload as Record<string, unknown>;
    assert.equal(typeof info.ver, 'string');
  });

  it('rejects an unknown msg.resource without a request', async () => {
    const { out1, out2, caught } = await loadWith('builtin');
    const before = emulator.stats().requests;

    getNode('n1').receive({ resource: 'colours' });

    const error = (await caught.at(0)).error as { message: string };
    // The test runtime returns message keys untranslated.
    assert.match(error.message, /errors\.invalid-resource/);
    await settle();
    assert.equal(out1.messages.length, 0);
    assert.equal(out2.messages.length, 0);
    assert.equal(emulator.stats().requests, before);
  });

  describe('captured firmware profiles', function () {
    const profiles = capturedProfiles();

    if (profiles.length === 0) {
      it('skips: ../shared/wled-fixtures is absent', function () {
        this.skip();
      });
    }

    for (const profile of profiles) {
      it(`reads state and info from ${profile}`, async () => {
        const { out1 } = await loadWith(profile);
        const node = getNode('n1');

        node.receive({});
        const state = (await out1.at(0)).payload as Record<string, unknown>;
        assert.ok(Array.isArray(state.seg), 'state has segments');

        node.receive({ resource: 'info' });
        const info = (await out1.at(1)).payload as Record<string, unknown>;
        assert.equal(info.ver, emulator.device.snapshot().info.ver);
      });
    }
  });
});
