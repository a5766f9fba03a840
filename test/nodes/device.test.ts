import assert from 'node:assert/strict';

import type { Emulator } from '../../src/emulator/types';
import { allNodes, emulatorFor, helper, logEntries } from './helpers';

function deviceNode(id: string, name: string, host: string): Record<string, unknown> {
  return { id, type: 'wled-jsonapi-device', name, host };
}

describe('wled-jsonapi-device node', function () {
  let emulator: Emulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());

  beforeEach(async () => {
    emulator = await emulatorFor();
  });

  afterEach(async () => {
    await helper.unload();
    await emulator.close();
  });

  it('warns when two nodes share an address', async () => {
    const host = `127.0.0.1:${emulator.port}`;
    await helper.load(allNodes, [
      { id: 'tab', type: 'tab', label: 'test' },
      deviceNode('first', 'kitchen', host),
      deviceNode('second', 'kitchen again', ` http://${host} `),
    ]);

    const warnings = logEntries(30).filter((entry) => entry.msg === 'errors.shared-address');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].id, 'second');
  });

  it('stays quiet for different addresses', async () => {
    await helper.load(allNodes, [
      { id: 'tab', type: 'tab', label: 'test' },
      deviceNode('first', 'kitchen', `127.0.0.1:${emulator.port}`),
      deviceNode('second', 'hall', `127.0.0.2:${emulator.port}`),
    ]);

    const warnings = logEntries(30).filter((entry) => entry.msg === 'errors.shared-address');
    assert.equal(warnings.length, 0);
  });

  it('forgets the address of a stopped node', async () => {
    const host = `127.0.0.1:${emulator.port}`;
    const tab = { id: 'tab', type: 'tab', label: 'test' };
    await helper.load(allNodes, [tab, deviceNode('first', 'kitchen', host)]);

    // A full deploy in the same runtime stops the first node before the second starts.
    await helper.setFlows([tab, deviceNode('second', 'hall', host)], 'full');

    const warnings = logEntries(30).filter((entry) => entry.msg === 'errors.shared-address');
    assert.equal(warnings.length, 0);
  });
});
