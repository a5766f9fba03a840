import assert from 'node:assert/strict';

import type { Emulator } from '../../src/emulator/types';
import {
  allNodes,
  buildFlow,
  capturedProfiles,
  emulatorFor,
  functionNode,
  getNode,
  helper,
  Inbox,
  payloadFunction,
  settle,
} from './helpers';

const SET_STATE = {
  type: 'wled-jsonapi-set-state' as const,
  payload: 'payload',
  payloadType: 'msg',
  transition: '',
  preset: '',
};

describe('wled-jsonapi-set-state node', function () {
  let emulator: Emulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());

  afterEach(async () => {
    await helper.unload();
    await emulator?.close();
  });

  async function loadWith(profile: string, node: Record<string, unknown> = {}) {
    emulator = await emulatorFor(profile);
    await helper.load(allNodes, buildFlow(`127.0.0.1:${emulator.port}`, { ...SET_STATE, ...node }));
    return { out1: new Inbox('out1'), out2: new Inbox('out2'), caught: new Inbox('caught') };
  }

  function deviceState(): Record<string, unknown> {
    return emulator.device.snapshot().state;
  }

  it('accepts an object from a function node', async () => {
    emulator = await emulatorFor('builtin');
    const flow = buildFlow(`127.0.0.1:${emulator.port}`, SET_STATE);
    flow.push(payloadFunction('{ bri: 100, seg: [{ id: 0, fx: 9 }] }'));
    await helper.load([functionNode(), ...allNodes], flow);
    const out1 = new Inbox('out1');
    const caught = new Inbox('caught');

    getNode('fn').receive({ payload: null });
    const msg = await out1.at(0);

    assert.equal((msg.payload as { bri: number }).bri, 100);
    assert.equal(deviceState().bri, 100);
    assert.equal((deviceState().seg as Array<{ fx: number }>)[0].fx, 9);
    assert.equal(caught.messages.length, 0);
  });

  it('applies every shorthand payload', async () => {
    const { out1 } = await loadWith('builtin');
    const node = getNode('n1');

    const cases: Array<[unknown, (state: Record<string, unknown>) => void]> = [
      [false, (state) => assert.equal(state.on, false)],
      [true, (state) => assert.equal(state.on, true)],
      ['off', (state) => assert.equal(state.on, false)],
      ['on', (state) => assert.equal(state.on, true)],
      ['toggle', (state) => assert.equal(state.on, false)],
      ['toggle', (state) => assert.equal(state.on, true)],
      [77, (state) => assert.equal(state.bri, 77)],
    ];

    for (const [index, [payload, check]] of cases.entries()) {
      node.receive({ payload });
      const msg = await out1.at(index);
      check(msg.payload as Record<string, unknown>);
      check(deviceState());
    }
  });

  it('passes a state object on and outputs the new state', async () => {
    const { out1 } = await loadWith('builtin');

    getNode('n1').receive({
      payload: { on: true, bri: 200, seg: [{ id: 0, col: [[10, 20, 30]] }] },
      topic: 'kitchen',
    });
    const msg = await out1.at(0);

    const state = msg.payload as { bri: number; seg: Array<{ col: number[][] }> };
    assert.equal(state.bri, 200);
    assert.deepEqual(state.seg[0].col[0].slice(0, 3), [10, 20, 30]);
    assert.equal(msg.topic, 'kitchen');
    assert.equal(deviceState().bri, 200);
  });

  it('reads the change from JSON set in the editor', async () => {
    const { out1 } = await loadWith('builtin', {
      payload: '{"on":true,"bri":33}',
      payloadType: 'json',
    });

    getNode('n1').receive({ payload: 'ignored' });
    await out1.at(0);

    assert.equal(deviceState().bri, 33);
  });

  it('evaluates a JSONata expression', async () => {
    const { out1 } = await loadWith('builtin', {
      payload: '{"bri": level * 2}',
      payloadType: 'jsonata',
    });

    getNode('n1').receive({ level: 60 });
    await out1.at(0);

    assert.equal(deviceState().bri, 120);
  });

  it('reads the change from flow context', async () => {
    const { out1 } = await loadWith('builtin', { payload: 'scene', payloadType: 'flow' });
    const node = helper.getNode('n1') as {
      context(): { flow: { set(key: string, value: unknown): void } };
    };
    node.context().flow.set('scene', { on: true, bri: 44 });

    getNode('n1').receive({});
    await out1.at(0);

    assert.equal(deviceState().bri, 44);
  });

  it('rejects a JSONata error without a request', async () => {
    const { out2, caught } = await loadWith('builtin', {
      payload: '$number("x")',
      payloadType: 'jsonata',
    });
    const requests = emulator.stats().requests;

    getNode('n1').receive({});

    const error = (await caught.at(0)).error as { message: string };
    // The test runtime returns message keys untranslated.
    assert.match(error.message, /errors\.source-failed/);
    await settle();
    assert.equal(out2.messages.length, 0);
    assert.equal(emulator.stats().requests, requests);
  });

  it('applies the preset chosen in the editor', async () => {
    const { out1 } = await loadWith('builtin', { preset: '1' });
    const posts = emulator.stats().postsByPath['/json/state'] ?? 0;

    getNode('n1').receive({});
    const msg = await out1.at(0);

    assert.equal(emulator.stats().postsByPath['/json/state'], posts + 1);
    // WLED loads a preset after it responds, so the node reads the state again to output it.
    assert.equal((msg.payload as { ps: number }).ps, 1);
  });

  it('outputs the state with a preset from msg.payload', async () => {
    const { out1 } = await loadWith('builtin');
    const node = getNode('n1');

    node.receive({ payload: { ps: 2 } });
    const second = await out1.at(0);
    node.receive({ payload: { ps: 1 } });
    const first = await out1.at(1);

    assert.equal((second.payload as { ps: number }).ps, 2);
    assert.equal((first.payload as { ps: number }).ps, 1);
  });

  const invalidPayloads: Array<[string, unknown, RegExp]> = [
    ['brightness out of range', 300, /300/],
    ['unknown shorthand', 'blink', /blink/],
    ['negative segment id', { seg: [{ id: -1 }] }, /-1/],
    ['wrong type for on', { on: 'yes' }, /yes/],
  ];

  for (const [name, payload, mentions] of invalidPayloads) {
    it(`rejects ${name} without a request`, async () => {
      const { out1, out2, caught } = await loadWith('builtin');
      await settle();
      const requests = emulator.stats().requests;
      const statusCalls = getNode('n1').status.callCount;

      getNode('n1').receive({ payload });

      const error = (await caught.at(0)).error as { message: string };
      assert.match(error.message, mentions);
      await settle();
      assert.equal(out1.messages.length, 0);
      assert.equal(out2.messages.length, 0);
      assert.equal(emulator.stats().requests, requests);
      assert.equal(getNode('n1').status.callCount, statusCalls, 'status unchanged');
    });
  }

  describe('captured firmware profiles', function () {
    const profiles = capturedProfiles();

    if (profiles.length === 0) {
      it('skips: ../shared/wled-fixtures is absent', function () {
        this.skip();
      });
    }

    for (const profile of profiles) {
      it(`switches and dims ${profile}`, async () => {
        const { out1 } = await loadWith(profile);
        const node = getNode('n1');

        node.receive({ payload: 'off' });
        assert.equal(((await out1.at(0)).payload as { on: boolean }).on, false);

        node.receive({ payload: { on: true, bri: 90 } });
        const state = (await out1.at(1)).payload as { on: boolean; bri: number };
        assert.equal(state.on, true);
        assert.equal(state.bri, 90);
        assert.equal(deviceState().bri, 90);
      });
    }
  });
});
