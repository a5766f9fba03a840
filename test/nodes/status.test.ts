import assert from 'node:assert/strict';

import type { Emulator } from '../../src/emulator/types';
import {
  allNodes,
  buildFlow,
  closedPort,
  emulatorFor,
  getNode,
  helper,
  Inbox,
  lastStatus,
  settle,
  waitFor,
} from './helpers';

const GET_STATE = { type: 'wled-jsonapi-get-state' as const, resource: 'state' };

describe('flow node status and diagnostics', function () {
  let emulator: Emulator | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());

  afterEach(async () => {
    await helper.unload();
    await emulator?.close();
    emulator = undefined;
  });

  it('reports a closed port', async () => {
    const port = await closedPort();
    await helper.load(allNodes, buildFlow(`127.0.0.1:${port}`, GET_STATE));
    const out1 = new Inbox('out1');
    const out2 = new Inbox('out2');
    const caught = new Inbox('caught');
    const node = getNode('n1');

    node.receive({ _msgid: 'input-1', topic: 'porch' });

    const failure = await out2.find(
      (msg) => (msg.payload as { event: string }).event === 'request-failed',
    );
    const payload = failure.payload as Record<string, unknown>;
    assert.equal(payload.errorClass, 'unreachable');
    assert.equal(payload.device, 'test device');
    assert.equal(payload.msgid, 'input-1');
    assert.equal(payload.topic, 'porch');
    assert.equal(failure.topic, 'porch');
    assert.equal(typeof payload.message, 'string');
    assert.equal(typeof payload.state, 'string');

    const caughtMsg = await caught.at(0);
    assert.equal(caughtMsg.topic, 'porch');
    assert.match(
      (caughtMsg.error as { message: string }).message,
      /not answering|refused|unreachable/i,
    );

    const status = lastStatus(node);
    assert.equal(status?.fill, 'red');
    assert.equal(status?.shape, 'ring');
    assert.equal(out1.messages.length, 0);
  });

  it('turns green after a successful request and reports the change', async () => {
    emulator = await emulatorFor();
    await helper.load(allNodes, buildFlow(`127.0.0.1:${emulator.port}`, GET_STATE));
    const out1 = new Inbox('out1');
    const out2 = new Inbox('out2');
    const node = getNode('n1');

    node.receive({});
    await out1.at(0);

    const change = await out2.find((msg) => (msg.payload as { to?: string }).to === 'connected');
    const payload = change.payload as Record<string, unknown>;
    assert.equal(payload.event, 'state-change');
    assert.equal(payload.device, 'test device');
    assert.equal(typeof payload.from, 'string');
    assert.equal(typeof payload.reason, 'string');
    await waitFor(() => lastStatus(node)?.fill === 'green', 'a green status');
    assert.deepEqual(lastStatus(node), { fill: 'green', shape: 'dot', text: 'status.connected' });
  });

  it('shows the status on every node of the device', async () => {
    emulator = await emulatorFor();
    const flow = buildFlow(`127.0.0.1:${emulator.port}`, GET_STATE);
    flow.push({
      id: 'n2',
      z: 'tab',
      type: 'wled-jsonapi-set-state',
      device: 'dev',
      payload: 'payload',
      payloadType: 'msg',
      wires: [[], []],
    });
    await helper.load(allNodes, flow);
    const out1 = new Inbox('out1');

    getNode('n1').receive({});
    await out1.at(0);

    await waitFor(() => lastStatus(getNode('n2'))?.fill === 'green', 'a green status on n2');
  });

  it('fails without a device configured', async () => {
    const flow = buildFlow('127.0.0.1:1', GET_STATE).filter((node) => node.id !== 'dev');
    await helper.load(allNodes, flow);
    const caught = new Inbox('caught');

    getNode('n1').receive({});

    const error = (await caught.at(0)).error as { message: string };
    assert.match(error.message, /errors\.no-device/);
    assert.deepEqual(lastStatus(getNode('n1')), {
      fill: 'red',
      shape: 'ring',
      text: 'status.no-device',
    });
  });

  it('fails with the reason when the device host is invalid', async () => {
    await helper.load(allNodes, buildFlow('http://127.0.0.1/some/path', GET_STATE));
    const caught = new Inbox('caught');
    const out2 = new Inbox('out2');

    getNode('n1').receive({});

    const error = (await caught.at(0)).error as { message: string };
    assert.match(error.message, /some\/path/);
    assert.equal(lastStatus(getNode('n1'))?.text, 'status.invalid-config');
    await settle();
    assert.equal(out2.messages.length, 0);
  });
});
