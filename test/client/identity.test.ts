import assert from 'node:assert/strict';

import { BOOT_TIME_TOLERANCE_MS, DeviceIdentity } from '../../src/lib/client/identity';
import { renderMessage } from '../../src/lib/messages';

const INFO = { ver: '0.15.3', mac: 'aabbccddeeff', uptime: 100 };

describe('device identity', () => {
  it('records MAC and version on first contact', () => {
    const identity = new DeviceIdentity();

    assert.deepEqual(identity.observe('/json/info', INFO, 0), []);

    assert.equal(identity.mac, 'aabbccddeeff');
    assert.equal(identity.version, '0.15.3');
    assert.equal(identity.infoSeen, true);
  });

  it('uptime going backwards is a reboot', () => {
    const identity = new DeviceIdentity();
    identity.observe('/json/info', INFO, 0);

    const findings = identity.observe('/json/info', { ...INFO, uptime: 3 }, 10_000);

    assert.deepEqual(findings, [{ kind: 'reboot', uptime: 3, previousUptime: 100 }]);
  });

  it('later boot time is a reboot', () => {
    const identity = new DeviceIdentity();
    identity.observe('/json/info', INFO, 0);

    // An hour later the uptime is larger, but the device booted 10 minutes ago.
    const findings = identity.observe('/json/info', { ...INFO, uptime: 600 }, 3_600_000);

    assert.equal(findings.length, 1);
    assert.equal(findings[0].kind, 'reboot');
  });

  it('uptime within the tolerance is no reboot', () => {
    const identity = new DeviceIdentity();
    identity.observe('/json/info', INFO, 0);

    const findings = identity.observe(
      '/json',
      { info: { ...INFO, uptime: 160 } },
      60_000 + BOOT_TIME_TOLERANCE_MS - 1,
    );

    assert.deepEqual(findings, []);
  });

  it('other MAC found, first kept', () => {
    const identity = new DeviceIdentity();
    identity.observe('/json/info', INFO, 0);

    const findings = identity.observe(
      '/json/info',
      { ...INFO, mac: '0123456789ab', uptime: 101 },
      1000,
    );

    assert.deepEqual(findings, [
      { kind: 'other-device', mac: '0123456789ab', expectedMac: 'aabbccddeeff' },
    ]);
    assert.equal(identity.mac, 'aabbccddeeff');
    assert.match(renderMessage(identity.describeOtherDevice()), /0123456789ab.*aabbccddeeff/);
  });

  it('version change found', () => {
    const identity = new DeviceIdentity();
    identity.observe('/json/info', INFO, 0);

    const findings = identity.observe('/json/info', { ...INFO, ver: '16.0.0', uptime: 101 }, 1000);

    assert.deepEqual(findings, [{ kind: 'version-changed', from: '0.15.3', to: '16.0.0' }]);
  });

  it('state documents kept', () => {
    const identity = new DeviceIdentity();

    identity.observe('/json/state', { on: true, bri: 3 });
    assert.deepEqual(identity.lastKnownState, { on: true, bri: 3 });
    identity.observe('/json', { state: { on: false, bri: 4 }, info: INFO });
    assert.deepEqual(identity.lastKnownState, { on: false, bri: 4 });
  });
});
