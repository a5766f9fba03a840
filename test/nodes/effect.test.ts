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
  logEntries,
  payloadFunction,
  settle,
} from './helpers';

const EFFECT = {
  type: 'wled-jsonapi-effect' as const,
  effect: '',
  speed: '',
  intensity: '',
  palette: '',
  setColors: false,
  color1: '#ff0000',
  color2: '#000000',
  color3: '#000000',
  segments: '',
};

interface Segment {
  id: number;
  fx: number;
  sx: number;
  ix: number;
  pal: number;
  col: number[][];
}

describe('wled-jsonapi-effect node', function () {
  let emulator: Emulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());

  afterEach(async () => {
    await helper.unload();
    await emulator?.close();
  });

  async function loadWith(profile: string, node: Record<string, unknown> = {}) {
    emulator = await emulatorFor(profile);
    await helper.load(allNodes, buildFlow(`127.0.0.1:${emulator.port}`, { ...EFFECT, ...node }));
    return { out1: new Inbox('out1'), out2: new Inbox('out2'), caught: new Inbox('caught') };
  }

  /** Names the device publishes, read the way the node reads them. */
  function effectNames(): string[] {
    return JSON.parse(
      emulator.device.handleGet('/json/eff', new URLSearchParams()).body,
    ) as string[];
  }

  function paletteNames(): string[] {
    return JSON.parse(
      emulator.device.handleGet('/json/pal', new URLSearchParams()).body,
    ) as string[];
  }

  function segments(): Segment[] {
    return emulator.device.snapshot().state.seg as Segment[];
  }

  it('sets the effect configured in the editor', async () => {
    const { out1 } = await loadWith('builtin', {
      effect: 'Rainbow',
      speed: '200',
      intensity: '50',
    });

    getNode('n1').receive({ payload: Date.now() });
    const msg = await out1.at(0);

    const fx = effectNames().indexOf('Rainbow');
    const seg = (msg.payload as { seg: Segment[] }).seg[0];
    assert.equal(seg.fx, fx);
    assert.equal(seg.sx, 200);
    assert.equal(seg.ix, 50);
    assert.equal(segments()[0].fx, fx);
  });

  it('accepts an object from a function node', async () => {
    emulator = await emulatorFor('builtin');
    const flow = buildFlow(`127.0.0.1:${emulator.port}`, EFFECT);
    flow.push(payloadFunction('{ effect: "Rainbow", speed: 10 }'));
    await helper.load([functionNode(), ...allNodes], flow);
    const out1 = new Inbox('out1');

    getNode('fn').receive({ payload: null });
    await out1.at(0);

    assert.equal(segments()[0].fx, effectNames().indexOf('Rainbow'));
    assert.equal(segments()[0].sx, 10);
  });

  it('warns about a segment the device lacks', async () => {
    const { out1, caught } = await loadWith('builtin', { effect: 'Rainbow' });

    getNode('n1').receive({ payload: { segment: [0, 5] } });
    await out1.at(0);

    assert.equal(segments()[0].fx, effectNames().indexOf('Rainbow'));
    const warnings = logEntries(30).filter((entry) => entry.id === 'n1');
    assert.equal(warnings.length, 1);
    // The test runtime has no catalogue for the package, so RED._ returns the key.
    assert.equal(warnings[0].msg, 'warnings.missing-segments');
    assert.equal(caught.messages.length, 0);
  });

  it('takes a number payload as an effect id', async () => {
    const { out1 } = await loadWith('builtin', { effect: 'Solid' });

    getNode('n1').receive({ payload: 2 });
    await out1.at(0);

    assert.equal(segments()[0].fx, 2);
  });

  it('matches effect and palette names in any case', async () => {
    const { out1 } = await loadWith('builtin');
    const node = getNode('n1');
    const rainbow = effectNames().indexOf('Rainbow');
    const breathe = effectNames().indexOf('Breathe');
    const party = paletteNames().indexOf('Party');

    node.receive({ payload: 'rAINBOW' });
    await out1.at(0);
    assert.equal(segments()[0].fx, rainbow);

    node.receive({ payload: { effect: 'breathe', palette: 'PARTY' } });
    await out1.at(1);
    assert.equal(segments()[0].fx, breathe);
    assert.equal(segments()[0].pal, party);

    node.receive({ payload: { effect: rainbow } });
    await out1.at(2);
    assert.equal(segments()[0].fx, rainbow);
  });

  it('sets colours and chosen segments', async () => {
    const { out1 } = await loadWith('builtin');
    const node = getNode('n1');

    node.receive({
      payload: { effect: 'Solid', colors: ['#102030', [40, 50, 60]], segment: 0 },
    });
    await out1.at(0);

    const seg = segments().find((entry) => entry.id === 0);
    assert.ok(seg);
    assert.deepEqual(seg.col[0].slice(0, 3), [16, 32, 48]);
    assert.deepEqual(seg.col[1].slice(0, 3), [40, 50, 60]);
  });

  it('rejects an unknown effect name with suggestions and no write', async () => {
    const { out1, out2, caught } = await loadWith('builtin');
    // The node reads the lists first; only the write must not happen.
    const posts = emulator.stats().postsByPath['/json/state'] ?? 0;

    getNode('n1').receive({ payload: 'Rainbw' });

    const error = (await caught.at(0)).error as { message: string };
    assert.match(error.message, /Rainbw/);
    assert.match(error.message, /Rainbow/);
    await settle();
    assert.equal(out1.messages.length, 0);
    // Reading the lists may report state changes; a failed request it must not report.
    const failures = out2.messages.filter(
      (msg) => (msg.payload as { event: string }).event === 'request-failed',
    );
    assert.equal(failures.length, 0);
    assert.equal(emulator.stats().postsByPath['/json/state'] ?? 0, posts);
  });

  it('rejects an unknown palette name', async () => {
    const { caught } = await loadWith('builtin');

    getNode('n1').receive({ payload: { effect: 'Rainbow', palette: 'Nowhere' } });

    const error = (await caught.at(0)).error as { message: string };
    assert.match(error.message, /Nowhere/);
  });

  describe('captured firmware profiles', function () {
    const profiles = capturedProfiles();

    if (profiles.length === 0) {
      it('skips: ../shared/wled-fixtures is absent', function () {
        this.skip();
      });
    }

    for (const profile of profiles) {
      it(`sets an effect by name on ${profile}`, async () => {
        const { out1 } = await loadWith(profile);
        const names = effectNames();
        const fx = names.indexOf('Breathe');
        assert.ok(fx > 0, 'profile has Breathe');

        getNode('n1').receive({ payload: 'BREATHE' });
        await out1.at(0);

        assert.equal(segments()[0].fx, fx);
      });
    }
  });
});
