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
  waitFor,
} from './helpers';

/** Counts the process's open sockets and timers by kind, as Node reports them. */
function resourceCounts(): { sockets: number; timers: number } {
  const resources = process.getActiveResourcesInfo();
  return {
    sockets: resources.filter((kind) => kind === 'TCPSocketWrap').length,
    timers: resources.filter((kind) => kind === 'Timeout').length,
  };
}

describe('redeploy', function () {
  let emulator: Emulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());

  afterEach(async () => {
    await emulator?.close();
  });

  it('leaves no sockets or timers behind', async () => {
    emulator = await emulatorFor();
    const deadPort = await closedPort();
    const baseline = resourceCounts();

    // n1 talks to the emulator; n3 to a closed port, so a failure status timer is running too.
    const flow = buildFlow(`127.0.0.1:${emulator.port}`, {
      type: 'wled-jsonapi-get-state',
      resource: 'state',
    });
    flow.push(
      {
        id: 'dead',
        type: 'wled-jsonapi-device',
        name: 'dead device',
        host: `127.0.0.1:${deadPort}`,
        connectTimeout: '300',
        responseTimeout: '300',
        totalTimeout: '600',
      },
      {
        id: 'n3',
        z: 'tab',
        type: 'wled-jsonapi-get-state',
        device: 'dead',
        resource: 'state',
        wires: [[], ['out3']],
      },
      { id: 'out3', z: 'tab', type: 'helper' },
    );
    await helper.load(allNodes, flow);

    // Every client a device node created, to check that each was closed.
    const clients: Array<{ state: string }> = [];
    const collectClients = () => {
      for (const id of ['dev', 'dead']) {
        const hub = (helper.getNode(id) as { hub?: { client?: { state: string } } }).hub;
        assert.ok(hub?.client, `device ${id} has a client`);
        clients.push(hub.client);
      }
    };

    for (let round = 0; round < 3; round += 1) {
      collectClients();
      const out1 = new Inbox('out1');
      const out3 = new Inbox('out3');
      getNode('n1').receive({ resource: 'full' });
      getNode('n3').receive({});
      await out1.at(0);
      await out3.find((msg) => (msg.payload as { event: string }).event === 'request-failed');

      await helper.setFlows(flow, 'full');
    }
    collectClients();
    await helper.unload();

    for (const [index, client] of clients.entries()) {
      assert.equal(client.state, 'closed', `client ${index} is closed`);
    }

    await waitFor(() => emulator.stats().current === 0, 'the emulator to finish all requests');
    await waitFor(
      () => resourceCounts().sockets <= baseline.sockets,
      `sockets back to ${baseline.sockets} (now ${resourceCounts().sockets})`,
    );
    await waitFor(
      () => resourceCounts().timers <= baseline.timers,
      `timers back to ${baseline.timers} (now ${resourceCounts().timers})`,
    );
    assert.ok(resourceCounts().sockets <= baseline.sockets);
  });
});
