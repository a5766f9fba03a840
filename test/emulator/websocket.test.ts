import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { startEmulator, startEmulatorFor, type Emulator } from '../../src/emulator';
import {
  builtinDevice,
  get,
  hasCompleteReply,
  parseReply,
  post,
  rawExchange,
  sleep,
} from './server-wire-helpers';

/** A WebSocket client that keeps every text message it receives. */
class Client {
  readonly socket: WebSocket;
  readonly messages: string[] = [];
  closeCode: number | undefined;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.on('message', (data) => this.messages.push(data.toString()));
    this.socket.on('close', (code) => (this.closeCode = code));
    this.socket.on('error', () => undefined);
  }

  /** Waits until `count` messages have arrived (or `timeoutMs` passes) and returns them. */
  async waitForMessages(count: number, timeoutMs = 1000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count && Date.now() < deadline) {
      await sleep(10);
    }
    return this.messages;
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade answered ${response.statusCode}`)),
      );
      this.socket.once('error', reject);
    });
  }
}

describe('emulator WebSocket', () => {
  let emulator: Emulator;
  const clients: Client[] = [];

  function connect(): Client {
    const client = new Client(`${emulator.url.replace('http', 'ws')}/ws`);
    clients.push(client);
    return client;
  }

  afterEach(async () => {
    for (const client of clients.splice(0)) {
      client.socket.terminate();
    }
    await emulator.close();
  });

  describe('messages', () => {
    beforeEach(async () => {
      emulator = await startEmulator({ wsBroadcastCooldownMs: 100 });
    });

    it('pushes state and info on connect', async () => {
      const client = connect();
      await client.opened();
      const [first] = await client.waitForMessages(1);

      assert.equal(first, emulator.device.handleGet('/json/si', new URLSearchParams()).body);
      assert.deepEqual(Object.keys(JSON.parse(first)), ['state', 'info']);
    });

    it('broadcasts after a state change', async () => {
      const client = connect();
      await client.opened();
      await client.waitForMessages(1);
      await rawExchange(emulator.port, post('/json/state', '{"bri":33}'), {
        stopWhen: hasCompleteReply,
      });
      const messages = await client.waitForMessages(2);

      assert.equal(messages.length, 2);
      assert.equal(JSON.parse(messages[1]).state.bri, 33);
    });

    it('rate-limits broadcasts to the cooldown', async () => {
      await emulator.close();
      emulator = await startEmulator({ wsBroadcastCooldownMs: 500 });
      const client = connect();
      await client.opened();
      await client.waitForMessages(1);
      for (const bri of [10, 20, 30]) {
        await rawExchange(emulator.port, post('/json/state', `{"bri":${bri}}`), {
          stopWhen: hasCompleteReply,
        });
      }
      await sleep(700);

      const broadcasts = client.messages.slice(1).map((message) => JSON.parse(message).state.bri);
      assert.ok(broadcasts.length <= 2, `got ${broadcasts.length} broadcasts`);
      assert.equal(broadcasts.at(-1), 30);
    });

    it('applies a command and answers success', async () => {
      const client = connect();
      await client.opened();
      await client.waitForMessages(1);
      client.socket.send('{"bri":77}');
      const messages = await client.waitForMessages(2);

      assert.equal(messages[1], '{"success":true}');
      assert.equal(emulator.device.snapshot().state.bri, 77);
    });

    it('answers a verbose command with state and info', async () => {
      const client = connect();
      await client.opened();
      await client.waitForMessages(1);
      client.socket.send('{"bri":78,"v":true}');
      const messages = await client.waitForMessages(2);
      const reply = JSON.parse(messages[1]);

      assert.deepEqual(Object.keys(reply), ['state', 'info']);
      assert.equal(reply.state.bri, 78);
    });

    it('answers {"v":true} to that client only', async () => {
      const asking = connect();
      const other = connect();
      await Promise.all([asking.opened(), other.opened()]);
      await asking.waitForMessages(1);
      await other.waitForMessages(1);
      asking.socket.send('{"v":true}');
      await asking.waitForMessages(2);
      await sleep(150);

      assert.equal(asking.messages.length, 2);
      assert.deepEqual(Object.keys(JSON.parse(asking.messages[1])), ['state', 'info']);
      assert.equal(other.messages.length, 1);
    });

    it('answers a text heartbeat with pong', async () => {
      const client = connect();
      await client.opened();
      await client.waitForMessages(1);
      client.socket.send('ping');
      const messages = await client.waitForMessages(2);

      assert.equal(messages[1], 'pong');
    });

    it('answers protocol pings', async () => {
      const client = connect();
      await client.opened();
      const pong = new Promise<string>((resolve) =>
        client.socket.once('pong', (data) => resolve(data.toString())),
      );
      client.socket.ping('hello');

      assert.equal(await pong, 'hello');
    });

    it('ignores invalid JSON', async () => {
      const client = connect();
      await client.opened();
      await client.waitForMessages(1);
      client.socket.send('{"bri":');
      await sleep(150);

      assert.equal(client.messages.length, 1);
    });

    it('reports the client count in info.ws', async () => {
      const first = connect();
      const second = connect();
      await Promise.all([first.opened(), second.opened()]);
      await sleep(50);
      const withTwo = emulator.device.snapshot().info.ws;
      first.socket.close();
      await sleep(150);

      assert.equal(withTwo, 2);
      assert.equal(emulator.device.snapshot().info.ws, 1);
      assert.equal(emulator.stats().wsClients, 1);
    });
  });

  describe('limits and faults', () => {
    it('closes the oldest client over the limit', async () => {
      emulator = await startEmulatorFor(builtinDevice({ wsClientLimit: 2 }));
      const oldest = connect();
      await oldest.opened();
      const middle = connect();
      await middle.opened();
      const newest = connect();
      await newest.opened();
      await sleep(150);

      assert.notEqual(oldest.closeCode, undefined);
      assert.equal(middle.closeCode, undefined);
      assert.equal(newest.closeCode, undefined);
      assert.equal(emulator.device.snapshot().info.ws, 2);
    });

    it('sends no success reply on 0.13', async () => {
      emulator = await startEmulatorFor(builtinDevice({ line: '0.13', busyBehaviour: 'silent' }));
      const client = connect();
      await client.opened();
      await client.waitForMessages(1);
      client.socket.send('{"bri":66}');
      await sleep(150);

      assert.equal(emulator.device.snapshot().state.bri, 66);
      assert.equal(client.messages.includes('{"success":true}'), false);
    });

    it('answers busy commands with error 3 on 0.15', async () => {
      emulator = await startEmulator({ latencyMs: 300 });
      const client = connect();
      await client.opened();
      await client.waitForMessages(1);
      const holder = rawExchange(emulator.port, get('/json/state'), {
        stopWhen: hasCompleteReply,
        waitMs: 2000,
      });
      await sleep(80);
      client.socket.send('{"bri":5}');
      const messages = await client.waitForMessages(2);
      await holder;

      assert.equal(messages[1], '{"error":3}');
    });

    it('refuses upgrades with ws-refuse', async () => {
      emulator = await startEmulator();
      emulator.inject({ kind: 'ws-refuse' });
      const client = connect();

      await assert.rejects(client.opened(), /upgrade answered 404/);
    });

    it('goes silent with ws-silent', async () => {
      emulator = await startEmulator();
      const client = connect();
      await client.opened();
      await client.waitForMessages(1);
      emulator.inject({ kind: 'ws-silent' });
      let ponged = false;
      client.socket.on('pong', () => (ponged = true));
      client.socket.ping();
      client.socket.send('ping');
      await sleep(200);

      assert.equal(ponged, false);
      assert.equal(client.messages.length, 1);
      assert.equal(client.closeCode, undefined);
    });

    it('counts WebSocket clients against the TCP limit', async () => {
      emulator = await startEmulatorFor(builtinDevice({ tcpConnectionLimit: 1 }));
      const client = connect();
      await client.opened();
      const reply = await rawExchange(emulator.port, get('/json/state'), { waitMs: 1000 });

      assert.equal(reply.ending, 'rst');
    });

    it('drops clients on reboot', async () => {
      emulator = await startEmulator();
      const client = connect();
      await client.opened();
      await emulator.reboot(50);
      await sleep(50);
      const reply = await rawExchange(emulator.port, get('/json/info'), {
        stopWhen: hasCompleteReply,
      });

      assert.notEqual(client.closeCode, undefined);
      assert.equal(JSON.parse(parseReply(reply.text).body).ws, 0);
    });
  });
});
