/**
 * The connection lifecycle in a real Node-RED runtime: the compiled nodes, the device config
 * node's one client and the emulator's faults, checked through what reaches a flow (output 1,
 * output 2, Catch, the node status).
 */

import assert from 'node:assert/strict';

import type { Emulator } from '../../src/emulator/types';
import type { DeviceClient } from '../../src/lib/client';
import {
  allNodes,
  buildFlow,
  emulatorFor,
  getNode,
  helper,
  Inbox,
  lastStatus,
  settle,
  waitFor,
  type FlowNodeSpec,
} from '../nodes/helpers';

const SET_STATE: FlowNodeSpec = {
  type: 'wled-jsonapi-set-state',
  payload: 'payload',
  payloadType: 'msg',
  transition: '',
  preset: '',
};

const GET_STATE: FlowNodeSpec = { type: 'wled-jsonapi-get-state', resource: 'state' };

type Payload = Record<string, unknown>;

function payloadOf(msg: Record<string, unknown>): Payload {
  return msg.payload as Payload;
}

function isFailure(msg: Record<string, unknown>): boolean {
  return payloadOf(msg).event === 'request-failed';
}

function isStateChange(to: string, from?: string) {
  return (msg: Record<string, unknown>): boolean =>
    payloadOf(msg).event === 'state-change' &&
    payloadOf(msg).to === to &&
    (from === undefined || payloadOf(msg).from === from);
}

function deviceClient(): DeviceClient {
  const device = helper.getNode('dev') as unknown as { hub?: { client?: DeviceClient } };
  const client = device.hub?.client;
  if (client === undefined) {
    throw new Error('the device node has no client');
  }
  return client;
}

describe('connection lifecycle in Node-RED', function () {
  let emulator: Emulator | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());

  afterEach(async () => {
    await helper.unload();
    await emulator?.close();
    emulator = undefined;
  });

  async function load(node: FlowNodeSpec, device: Record<string, unknown> = {}) {
    emulator = await emulatorFor('builtin');
    await helper.load(allNodes, buildFlow(`127.0.0.1:${emulator.port}`, node, device));
    return { out1: new Inbox('out1'), out2: new Inbox('out2'), caught: new Inbox('caught') };
  }

  it('flood of 200 messages through set-state', async () => {
    const { out1, out2, caught } = await load(SET_STATE);
    const node = getNode('n1');

    for (let i = 1; i <= 200; i++) {
      node.receive({ payload: { on: true, bri: i } });
    }
    await out1.at(199, 10_000);
    await settle();

    assert.equal(out1.messages.length, 200);
    assert.equal(out2.messages.filter(isFailure).length, 0);
    assert.equal(caught.messages.length, 0);
    assert.equal(emulator?.device.snapshot().state.bri, 200);
    assert.equal(emulator?.stats().maxConcurrent, 1);
    assert.ok((emulator?.stats().postsByPath['/json/state'] ?? 0) < 10);
    assert.equal(payloadOf(out1.messages[199]).bri, 200);
  });

  it('busy device: retried, degraded status', async () => {
    const { out1, out2, caught } = await load(SET_STATE, { totalTimeout: '3000' });
    const node = getNode('n1');
    node.receive({ payload: { bri: 10 } });
    await out1.at(0);

    emulator?.inject({ kind: 'busy', count: 1 });
    node.receive({ payload: { bri: 20 } });
    const msg = await out1.at(1);
    const degraded = await out2.find(isStateChange('degraded'));

    assert.equal(payloadOf(msg).bri, 20);
    assert.equal(payloadOf(degraded).errorClass, 'overloaded');
    assert.equal(out2.messages.filter(isFailure).length, 0);
    assert.equal(caught.messages.length, 0);
    assert.deepEqual(
      { fill: lastStatus(node)?.fill, shape: lastStatus(node)?.shape },
      { fill: 'yellow', shape: 'ring' },
    );
  });

  it('never answers: output 2, Catch, red status', async () => {
    const { out1, out2, caught } = await load(GET_STATE);
    const node = getNode('n1');
    node.receive({ payload: 'first' });
    await out1.at(0);

    emulator?.inject({ kind: 'never-answer', count: 2 });
    node.receive({ topic: 'kitchen' });
    const failure = await out2.find(isFailure);
    const error = await caught.at(0);

    const payload = payloadOf(failure);
    assert.equal(payload.errorClass, 'timeout');
    assert.equal(payload.attempts, 1);
    assert.equal(payload.topic, 'kitchen');
    assert.equal(payload.device, 'test device');
    assert.match(String(payload.message), /did not answer in time/);
    assert.match(
      String((error.error as { message: string }).message),
      /test device: GET \/json\/state/,
    );
    assert.equal(lastStatus(node)?.fill, 'red');
  });

  it('truncated body retried, no failure', async () => {
    const { out1, out2, caught } = await load(GET_STATE);
    const node = getNode('n1');
    node.receive({});
    await out1.at(0);

    emulator?.inject({ kind: 'short-body-rst', count: 1 });
    node.receive({});
    await out1.at(1);
    await settle();

    assert.equal(out2.messages.filter(isFailure).length, 0);
    assert.equal(caught.messages.length, 0);
    assert.equal(deviceClient().stats().failuresByClass.truncated, 1);
  });

  it('device off then back without redeploy', async () => {
    const { out1, out2, caught } = await load(SET_STATE);
    const node = getNode('n1');
    const clientBefore = deviceClient();
    node.receive({ payload: { bri: 5 } });
    await out1.at(0);

    emulator?.inject({ kind: 'refuse-connections', forMs: 800 });
    for (let i = 0; i < 4; i++) {
      node.receive({ payload: { bri: 50 + i } });
      await caught.at(i);
    }
    const unreachable = await out2.find(isStateChange('unreachable'));
    assert.equal(lastStatus(node)?.fill, 'red');

    await out2.find(isStateChange('connected', 'probing'), 8000);
    node.receive({ payload: { bri: 99 } });
    const msg = await out1.at(1);

    assert.equal(payloadOf(unreachable).errorClass, 'unreachable');
    const failures = out2.messages.filter(isFailure).map(payloadOf);
    assert.deepEqual(
      failures.map((failure) => failure.errorClass),
      ['unreachable', 'unreachable', 'unreachable', 'unreachable'],
    );
    assert.equal(failures[3].attempts, 0);
    assert.equal(payloadOf(msg).bri, 99);
    assert.equal(deviceClient(), clientBefore);
    await waitFor(() => lastStatus(node)?.fill === 'green', 'a green status', 4000);
  });

  it('different device: writes refused', async () => {
    const { out1, out2, caught } = await load(SET_STATE);
    const setNode = getNode('n1');
    setNode.receive({ payload: { bri: 7 } });
    await out1.at(0);

    emulator?.inject({ kind: 'other-device' });
    await deviceClient().read('info');
    setNode.receive({ payload: { bri: 8 } });
    const failure = await out2.find(isFailure);
    await caught.at(0);

    assert.equal(payloadOf(failure).errorClass, 'wrong-device');
    assert.equal(payloadOf(failure).state, 'wrong-device');
    assert.equal(emulator?.device.snapshot().state.bri, 7);
    assert.equal(lastStatus(setNode)?.fill, 'red');
  });

  it('toggle that reached the device not re-sent', async () => {
    const { out1, out2 } = await load(SET_STATE);
    const node = getNode('n1');
    node.receive({ payload: { on: true } });
    await out1.at(0);
    emulator?.resetStats();

    emulator?.inject({ kind: 'reset-after-headers', count: 1, path: '/json/state' });
    node.receive({ payload: 'toggle' });
    const msg = await out1.at(1);

    assert.equal(payloadOf(msg).on, false);
    assert.equal(emulator?.device.snapshot().state.on, false);
    assert.equal(emulator?.stats().postsByPath['/json/state'], 1);
    assert.equal(out2.messages.filter(isFailure).length, 0);
  });

  it('redeploy during a request', async () => {
    const { out1 } = await load(GET_STATE);
    const node = getNode('n1');
    node.receive({});
    await out1.at(0);
    const oldClient = deviceClient();

    emulator?.inject({ kind: 'delay-headers', count: 1, delayMs: 3000 });
    node.receive({});
    await waitFor(() => emulator?.stats().current === 1, 'the request to reach the device');

    const startedAt = Date.now();
    await helper.setFlows(buildFlow(`127.0.0.1:${emulator?.port}`, GET_STATE), 'full');
    const redeployMs = Date.now() - startedAt;
    const requestsAfterClose = emulator?.stats().requests;

    assert.equal(oldClient.state, 'closed');
    assert.notEqual(deviceClient(), oldClient);
    // The old client gave its request the close grace, then aborted it.
    assert.ok(redeployMs < 2900, `the redeploy took ${redeployMs} ms`);
    assert.deepEqual(oldClient.socketCounts(), { active: 0, free: 0, queued: 0 });
    await settle(200);
    assert.equal(emulator?.stats().requests, requestsAfterClose);
  });
});
