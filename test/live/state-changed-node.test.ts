/**
 * The state-changed node in a real Node-RED runtime, against the emulator on loopback: the
 * device node's WebSocket, its polling fallback and its cleanup on redeploy.
 */

import assert from 'node:assert/strict';
import path from 'node:path';

import type { Emulator } from '../../src/emulator/types';
import {
  allNodes,
  emulatorFor,
  getNode,
  helper,
  Inbox,
  lastStatus,
  repoRoot,
  settle,
  waitFor,
  functionNode,
  logEntries,
} from '../nodes/helpers';
import { postState, resourceCounts } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const stateChangedNode = require(
  path.join(repoRoot, 'nodes', 'wled-jsonapi-state-changed.js'),
) as unknown;
const nodes = [...allNodes, stateChangedNode];

type FlowNode = Record<string, unknown>;

/** Builds a device node with short live settings, so that fallbacks happen within a test's time. */
function deviceNode(emulator: Emulator, fields: FlowNode = {}): FlowNode {
  return {
    id: 'dev',
    type: 'wled-jsonapi-device',
    name: 'test device',
    host: `127.0.0.1:${emulator.port}`,
    connectTimeout: '500',
    responseTimeout: '1000',
    totalTimeout: '1500',
    maxInFlight: '1',
    minWriteSpacing: '',
    pollInterval: '150',
    heartbeat: '100',
    ...fields,
  };
}

/** A state-changed node `id` wired to helper nodes `<id>-out1` and `<id>-out2`. */
function stateChanged(id: string, fields: FlowNode = {}): FlowNode[] {
  return [
    {
      id,
      z: 'tab',
      type: 'wled-jsonapi-state-changed',
      device: 'dev',
      properties: '',
      segment: '',
      ignoreOwnWrites: false,
      wires: [[`${id}-out1`], [`${id}-out2`]],
      ...fields,
    },
    { id: `${id}-out1`, z: 'tab', type: 'helper' },
    { id: `${id}-out2`, z: 'tab', type: 'helper' },
  ];
}

function flowWith(emulator: Emulator, ...parts: FlowNode[][]): FlowNode[] {
  return [{ id: 'tab', type: 'tab', label: 'test' }, deviceNode(emulator), ...parts.flat()];
}

function isResync(msg: Record<string, unknown>): boolean {
  return msg.resync !== undefined;
}

function bri(msg: Record<string, unknown>): unknown {
  return (msg.payload as { bri?: unknown }).bri;
}

function liveModes(inbox: Inbox): unknown[] {
  return inbox.messages
    .map((msg) => msg.payload as { event?: string; to?: string })
    .filter((payload) => payload.event === 'live-mode')
    .map((payload) => payload.to);
}

describe('wled-jsonapi-state-changed node', function () {
  let emulator: Emulator | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());

  afterEach(async () => {
    await helper.unload();
    await emulator?.close();
    emulator = undefined;
  });

  async function startEmulator(): Promise<Emulator> {
    emulator = await emulatorFor('builtin', { wsBroadcastCooldownMs: 50 });
    return emulator;
  }

  it('sends an HTTP change with its changed paths', async () => {
    const device = await startEmulator();
    await helper.load(nodes, flowWith(device, stateChanged('sc')));
    const out1 = new Inbox('sc-out1');

    const initial = await out1.at(0);
    assert.equal(initial.resync, 'initial');
    assert.equal(initial.source, 'websocket');
    await waitFor(() => lastStatus(getNode('sc'))?.fill === 'green', 'the live status');
    assert.equal(lastStatus(getNode('sc'))?.text, 'status.websocket');

    await postState(device, { bri: 42 });
    const msg = await out1.at(1);
    assert.deepEqual(msg.changed, ['bri']);
    assert.equal(bri(msg), 42);
    assert.equal((msg.previous as { bri: number }).bri, 128);
    assert.equal(msg.origin, 'device');
    assert.equal(msg.topic, 'test device');
    await settle(200);
    assert.equal(out1.messages.length, 2);
  });

  it('filters the changes of its own set-state node', async () => {
    const device = await startEmulator();
    const setState = {
      id: 'set',
      z: 'tab',
      type: 'wled-jsonapi-set-state',
      device: 'dev',
      payload: 'payload',
      payloadType: 'msg',
      wires: [['set-out1'], []],
    };
    await helper.load(
      nodes,
      flowWith(device, stateChanged('all'), stateChanged('foreign', { ignoreOwnWrites: true }), [
        setState,
        { id: 'set-out1', z: 'tab', type: 'helper' },
      ]),
    );
    const all = new Inbox('all-out1');
    const foreign = new Inbox('foreign-out1');
    const written = new Inbox('set-out1');
    await all.find(isResync);
    await foreign.find(isResync);

    getNode('set').receive({ payload: { bri: 10 } });
    await written.at(0);
    const own = await all.find((msg) => bri(msg) === 10);
    assert.equal(own.origin, 'own-write');

    // A field the write did not touch, so the change is not taken for an effect of it.
    await postState(device, { seg: [{ id: 0, fx: 3 }] });
    const change = await foreign.find((msg) => !isResync(msg));
    assert.ok((change.changed as string[]).includes('seg.0.fx'));
    assert.equal(change.origin, 'device');
    const ownChanges = foreign.messages.filter(
      (msg) => !isResync(msg) && (msg.changed as string[]).includes('bri'),
    );
    assert.equal(ownChanges.length, 0, 'the node that ignores own writes got the bri change');
  });

  it('sends only the selected properties', async () => {
    const device = await startEmulator();
    await helper.load(
      nodes,
      flowWith(device, stateChanged('sc', { properties: 'seg.*.fx', segment: '' })),
    );
    const out1 = new Inbox('sc-out1');
    await out1.find(isResync);

    await postState(device, { bri: 3 });
    await postState(device, { seg: [{ id: 0, fx: 8 }] });
    const msg = await out1.find((candidate) => !isResync(candidate));
    assert.deepEqual(msg.changed, ['seg.0.fx']);
  });

  it('polls when the device refuses WebSocket clients', async () => {
    const device = await startEmulator();
    device.inject({ kind: 'ws-refuse', forMs: 60_000 });
    await helper.load(nodes, flowWith(device, stateChanged('sc')));
    const out1 = new Inbox('sc-out1');

    const initial = await out1.at(0);
    assert.equal(initial.source, 'poll');
    await waitFor(() => lastStatus(getNode('sc'))?.text === 'status.polling', 'the polling status');

    await postState(device, { bri: 77 });
    const msg = await out1.find((candidate) => bri(candidate) === 77);
    assert.deepEqual(msg.changed, ['bri']);
    assert.equal(msg.source, 'poll');
    assert.equal(device.stats().wsClients, 0);
    assert.ok((device.stats().getsByPath['/json/si'] ?? 0) > 0, 'the polls read /json/si');
  });

  it('detects a silent WebSocket and recovers', async () => {
    const device = await startEmulator();
    await helper.load(nodes, flowWith(device, stateChanged('sc')));
    const out1 = new Inbox('sc-out1');
    const out2 = new Inbox('sc-out2');
    await out1.find(isResync);

    device.inject({ kind: 'ws-silent', forMs: 1000 });
    await out2.find((msg) => (msg.payload as { to?: string }).to === 'disconnected');
    await postState(device, { bri: 55 });
    const polled = await out1.find((msg) => bri(msg) === 55);
    assert.equal(polled.source, 'poll');

    await waitFor(() => liveModes(out2).at(-1) === 'websocket', 'the WebSocket to come back', 6000);
    await postState(device, { bri: 56 });
    const pushed = await out1.find((msg) => bri(msg) === 56);
    assert.equal(pushed.source, 'websocket');
  });

  it('sends one resync message after a reboot', async () => {
    const device = await startEmulator();
    await helper.load(nodes, flowWith(device, stateChanged('sc')));
    const out1 = new Inbox('sc-out1');
    await out1.find(isResync);
    // The emulator counts uptime in whole seconds: the last push before the reboot must come
    // after the first second for the uptime to go backwards.
    await settle(1100);
    await postState(device, { bri: 5 });
    await out1.find((msg) => bri(msg) === 5);
    const before = out1.messages.length;

    await device.reboot(200);
    const resync = await out1.find((msg) => msg.resync === 'reboot', 6000);
    assert.equal(bri(resync), 128);
    assert.ok((resync.changed as string[]).includes('bri'));
    await settle(300);
    assert.equal(out1.messages.slice(before).filter(isResync).length, 1);
  });

  it('opens no WebSocket without a state-changed node', async () => {
    const device = await startEmulator();
    const getState = {
      id: 'get',
      z: 'tab',
      type: 'wled-jsonapi-get-state',
      device: 'dev',
      resource: 'state',
      wires: [['get-out1'], []],
    };
    await helper.load(
      nodes,
      flowWith(device, [getState, { id: 'get-out1', z: 'tab', type: 'helper' }]),
    );
    const out1 = new Inbox('get-out1');

    getNode('get').receive({});
    await out1.at(0);
    await settle(200);
    assert.equal(device.stats().wsClients, 0);
  });

  it('answers get-state from the cache', async () => {
    const device = await startEmulator();
    const getState = {
      id: 'get',
      z: 'tab',
      type: 'wled-jsonapi-get-state',
      device: 'dev',
      resource: 'state',
      maxAge: '60000',
      wires: [['get-out1'], []],
    };
    await helper.load(
      nodes,
      flowWith(device, stateChanged('sc'), [
        getState,
        { id: 'get-out1', z: 'tab', type: 'helper' },
      ]),
    );
    const changes = new Inbox('sc-out1');
    const out1 = new Inbox('get-out1');
    await changes.find(isResync);
    await postState(device, { bri: 61 });
    await changes.find((msg) => bri(msg) === 61);
    const reads = device.stats().getsByPath['/json/state'] ?? 0;

    getNode('get').receive({});
    const msg = await out1.at(0);
    assert.equal(bri(msg), 61);
    assert.equal(device.stats().getsByPath['/json/state'] ?? 0, reads);

    getNode('get').receive({ resource: 'effects' });
    const effects = await out1.at(1);
    assert.ok(Array.isArray(effects.payload), 'other resources are still read from the device');
  });

  it('keeps its state when set-state output is edited', async () => {
    const device = await startEmulator();
    const setState = {
      id: 'set',
      z: 'tab',
      type: 'wled-jsonapi-set-state',
      device: 'dev',
      payload: 'payload',
      payloadType: 'msg',
      wires: [['careless'], []],
    };
    // Edits set-state's output in place, as a careless flow would.
    const careless = {
      id: 'careless',
      z: 'tab',
      type: 'function',
      func: 'msg.payload.bri = 555;\nmsg.payload.seg[0].fx = 66;\nreturn msg;',
      outputs: 1,
      wires: [['set-out']],
    };
    await helper.load(
      [...nodes, functionNode()],
      flowWith(device, stateChanged('sc'), [
        setState,
        careless,
        { id: 'set-out', z: 'tab', type: 'helper' },
      ]),
    );
    const out1 = new Inbox('sc-out1');
    const written = new Inbox('set-out');
    await out1.find(isResync);

    getNode('set').receive({ payload: { bri: 91 } });
    await written.at(0);
    await out1.find((msg) => bri(msg) === 91);
    await postState(device, { bri: 42 });
    const change = await out1.find((msg) => bri(msg) === 42);

    // The device's own push of bri 91 (sent after the write) must not look like a change.
    const changes = out1.messages.filter((msg) => !isResync(msg)).map((msg) => msg.changed);
    assert.deepEqual(changes, [['bri'], ['bri']]);
    assert.equal((change.previous as { bri: number }).bri, 91);
  });

  it('hands out copies that flows cannot edit', async () => {
    const device = await startEmulator();
    const editor = {
      id: 'edit',
      z: 'tab',
      type: 'function',
      // Records what arrived, then edits the message in place as a careless flow would.
      func: [
        'msg.seen = { bri: msg.payload.bri, previousBri: msg.previous && msg.previous.bri, changed: msg.changed.slice() };',
        'msg.payload.bri = 999;',
        'msg.payload.seg[0].fx = 99;',
        'if (msg.previous) { msg.previous.bri = 998; }',
        'return msg;',
      ].join('\n'),
      outputs: 1,
      wires: [['edit-out']],
    };
    const getState = {
      id: 'get',
      z: 'tab',
      type: 'wled-jsonapi-get-state',
      device: 'dev',
      resource: 'state',
      maxAge: '60000',
      wires: [['get-out1'], []],
    };
    await helper.load(
      [...nodes, functionNode()],
      flowWith(device, stateChanged('sc', { wires: [['edit'], ['sc-out2']] }), [
        editor,
        { id: 'edit-out', z: 'tab', type: 'helper' },
        getState,
        { id: 'get-out1', z: 'tab', type: 'helper' },
      ]),
    );
    const edited = new Inbox('edit-out');
    const answers = new Inbox('get-out1');
    await edited.find(isResync);

    getNode('get').receive({});
    const first = await answers.at(0);
    assert.equal(bri(first), 128, 'get-state returned the state a flow edited');
    (first.payload as { bri: number }).bri = 997;
    getNode('get').receive({});
    assert.equal(bri(await answers.at(1)), 128, 'get-state returned its own edited answer');

    await postState(device, { bri: 42 });
    const change = await edited.find((msg) => (msg.seen as { bri: number }).bri === 42);
    const seen = change.seen as { previousBri: number; changed: string[] };
    assert.equal(seen.previousBri, 128);
    assert.deepEqual(seen.changed, ['bri']);
  });

  it('answers from the cache while the WebSocket is quiet', async () => {
    const device = await startEmulator();
    const getState = {
      id: 'get',
      z: 'tab',
      type: 'wled-jsonapi-get-state',
      device: 'dev',
      resource: 'state',
      maxAge: '300',
      wires: [['get-out1'], []],
    };
    await helper.load(
      nodes,
      flowWith(device, stateChanged('sc'), [
        getState,
        { id: 'get-out1', z: 'tab', type: 'helper' },
      ]),
    );
    const out1 = new Inbox('get-out1');
    await new Inbox('sc-out1').find(isResync);

    // No change for twice the cache age: only heartbeat pongs (every 100 ms) arrive.
    await settle(600);
    getNode('get').receive({});
    assert.equal(bri(await out1.at(0)), 128);
    assert.equal(device.stats().getsByPath['/json/state'] ?? 0, 0, 'the state was read again');
  });

  it('ages the cached info on its own', async () => {
    const device = await startEmulator();
    const getInfo = {
      id: 'get',
      z: 'tab',
      type: 'wled-jsonapi-get-state',
      device: 'dev',
      resource: 'info',
      maxAge: '300',
      wires: [['get-out1'], []],
    };
    const setState = {
      id: 'set',
      z: 'tab',
      type: 'wled-jsonapi-set-state',
      device: 'dev',
      payload: 'payload',
      payloadType: 'msg',
      wires: [['set-out1'], []],
    };
    const flow = [
      { id: 'tab', type: 'tab', label: 'test' },
      // Polls only, far apart, so that nothing but the write refreshes the cache.
      deviceNode(device, { pollOnly: true, pollInterval: '60000' }),
      ...stateChanged('sc'),
      getInfo,
      { id: 'get-out1', z: 'tab', type: 'helper' },
      setState,
      { id: 'set-out1', z: 'tab', type: 'helper' },
    ];
    await helper.load(nodes, flow);
    await new Inbox('sc-out1').find(isResync);
    const written = new Inbox('set-out1');
    const out1 = new Inbox('get-out1');

    await settle(500);
    getNode('set').receive({ payload: { bri: 9 } });
    await written.at(0);
    const infoReads = device.stats().getsByPath['/json/info'] ?? 0;
    getNode('get').receive({});
    await out1.at(0);
    assert.equal(
      device.stats().getsByPath['/json/info'] ?? 0,
      infoReads + 1,
      'info older than the cache age was answered from the cache after a write',
    );
  });

  it('reports an invalid segment with its value', async () => {
    const device = await startEmulator();
    await helper.load(nodes, flowWith(device, stateChanged('sc', { segment: 'two' })));

    // The test runtime has no catalogue, so the error falls back to the English template.
    const errors = logEntries(20).filter((entry) => entry.id === 'sc');
    assert.equal(errors.length, 1);
    assert.match(String(errors[0].msg), /^Invalid segment "two": use a segment id/);
  });

  it('warns about a live interval below the minimum', async () => {
    const device = await startEmulator();
    const flow = [
      { id: 'tab', type: 'tab', label: 'test' },
      deviceNode(device, { pollInterval: '50', heartbeat: '20' }),
    ];
    await helper.load(nodes, flow);

    const warnings = logEntries(30).filter((entry) => entry.id === 'dev');
    assert.deepEqual(
      warnings.map((entry) => entry.msg),
      ['errors.poll-interval-too-short', 'errors.heartbeat-too-short'],
    );
  });

  it('closes the WebSocket and timers on redeploy', async () => {
    const device = await startEmulator();
    await settle(0);
    const baseline = resourceCounts();
    const flow = flowWith(device, stateChanged('sc'));

    for (let round = 0; round < 3; round += 1) {
      if (round === 0) {
        await helper.load(nodes, flow);
      } else {
        await helper.setFlows(flow, 'full');
      }
      const out1 = new Inbox('sc-out1');
      await out1.find(isResync);
      await waitFor(() => device.stats().wsClients === 1, 'one WebSocket for the device');
    }
    await helper.unload();

    await waitFor(() => device.stats().wsClients === 0, 'the emulator to see the WebSocket close');
    await waitFor(
      () =>
        resourceCounts().sockets <= baseline.sockets && resourceCounts().timers <= baseline.timers,
      `sockets and timers back to ${JSON.stringify(baseline)} (now ${JSON.stringify(resourceCounts())})`,
    );
  });
});
