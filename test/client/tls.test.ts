import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

import { startEmulator } from '../../src/emulator';
import type { Emulator } from '../../src/emulator/types';
import type { DeviceClient } from '../../src/lib/client';
import { captureLogger, createClient, rejection } from './helpers';

/** Creates a self-signed certificate for 127.0.0.1 with openssl, as a home proxy might use. */
function selfSignedCertificate(dir: string): { key: Buffer; cert: Buffer } {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}

/** Starts a TLS reverse proxy on loopback in front of the emulator. */
async function startProxy(
  emulator: Emulator,
  credentials: { key: Buffer; cert: Buffer },
): Promise<tls.Server> {
  const server = tls.createServer(credentials, (socket) => {
    const upstream = net.connect(emulator.port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('device client over https', function () {
  let dir: string;
  let emulator: Emulator;
  let proxy: tls.Server;
  let client: DeviceClient | undefined;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wled-jsonapi-tls-'));
    let credentials: { key: Buffer; cert: Buffer };
    try {
      credentials = selfSignedCertificate(dir);
    } catch (error) {
      // CI must run this test; elsewhere a machine without openssl skips it.
      if (process.env.CI === 'true') {
        throw error;
      }
      this.skip();
    }
    emulator = await startEmulator();
    proxy = await startProxy(emulator, credentials);
  });

  after(async () => {
    proxy?.close();
    await emulator?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await client?.close();
    client = undefined;
  });

  function baseUrl(): string {
    return `https://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  }

  it('rejects a self-signed certificate as tls', async () => {
    client = createClient(baseUrl(), captureLogger());

    const error = await rejection(client.read('state'));

    assert.equal(error.errorClass, 'tls');
    assert.equal(error.details.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.match(error.message, /Accept any certificate/);
    assert.equal(client.state, 'connected');
  });

  it('reads and writes with any certificate accepted', async () => {
    client = createClient(baseUrl(), captureLogger(), { acceptAnyCertificate: true });

    const written = await client.setState({ bri: 77 });
    const read = await client.read('state');

    assert.equal(written.data.bri, 77);
    assert.equal((read.data as { bri: number }).bri, 77);
    assert.equal(emulator.device.snapshot().state.bri, 77);
  });
});
