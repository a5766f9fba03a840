/**
 * The editor in a real browser: Node-RED with this package and the WLED emulator, driven
 * through chromium the way a user would. The tests run in order and share one page, because
 * each step builds on the flow the previous one left behind. Screenshots of every dialog go
 * to test-artifacts/browser/.
 */

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import type { Page } from 'playwright-core';

import { startEmulator } from '../../src/emulator';
import type { Emulator } from '../../src/emulator/types';
import {
  artifactsDir,
  assertNodesBuilt,
  CHROMIUM_PATH,
  launchChromium,
  nodeTypes,
  packageName,
  startNodeRed,
  type BrowserSession,
  type NodeRedProcess,
} from './harness';

/** The config node's type, which the palette does not show. */
const DEVICE_TYPE = 'wled-jsonapi-device';

/** Node ids in examples/demo.json, which an import into an empty workspace keeps. */
const DEMO = {
  tab: 'demo-tab-01',
  device: 'wled-jsonapi-example-device',
  setState: 'demo-set-state-06',
  injectOn: 'demo-inject-07',
  injectBrightness64: 'demo-inject-10',
  effect: 'demo-effect-13',
  injectFireOnLava: 'demo-inject-15',
};

const POLL_MS = 25;
const DEVICE_WAIT_MS = 5000;

/** Polls a condition on the test's side (the emulator's state) until it holds. */
async function waitUntil(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + DEVICE_WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${DEVICE_WAIT_MS} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A loopback address that refuses connections, because no test machine serves TCP port 1 (tcpmux). */
const CLOSED_HOST = '127.0.0.1:1';

/** WLED's placeholder entries in its effect and palette lists, which the dialogs leave out. */
const PLACEHOLDER_NAMES = new Set(['RSVD', '-', '']);

describe('editor in a real browser', function () {
  this.timeout(60_000);

  let emulator: Emulator | undefined;
  let nodeRed: NodeRedProcess | undefined;
  let browser: BrowserSession | undefined;
  let page: Page;

  before(async function () {
    if (!fs.existsSync(CHROMIUM_PATH)) {
      const reason = `${CHROMIUM_PATH} is missing (install it with "apt-get install chromium")`;
      if (process.env.CI && process.env.CI !== 'false') {
        throw new Error(`${reason}, and CI must run the browser test`);
      }
      process.stderr.write(`  Skipping the browser test: ${reason}.\n`);
      this.skip();
    }
    assertNodesBuilt();
    fs.rmSync(artifactsDir, { recursive: true, force: true });
    fs.mkdirSync(artifactsDir, { recursive: true });

    emulator = await startEmulator({ host: '127.0.0.1', port: 0 });
    nodeRed = await startNodeRed([]);
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);

    await page.goto(nodeRed.url);
    await page.waitForSelector('#red-ui-palette-container .red-ui-palette-node');
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && browser) {
      await screenshot(`failed-${this.currentTest.title.replace(/\W+/g, '-')}`);
    }
  });

  after(async () => {
    if (nodeRed) {
      fs.writeFileSync(path.join(artifactsDir, 'node-red.log'), nodeRed.output());
    }
    await browser?.close();
    await nodeRed?.stop();
    await emulator?.close();
  });

  async function screenshot(name: string): Promise<void> {
    await dismissNotifications();
    // Clicks scroll the workspace, so scroll back to its top left corner, where the flow starts.
    await page.evaluate(() => document.querySelector('#red-ui-workspace-chart')?.scrollTo(0, 0));
    await page.screenshot({ path: path.join(artifactsDir, `${name}.png`) });
  }

  /**
   * Closes the editor's notices ("Successfully deployed") so they do not cover the
   * screenshots. A fixed notice stays open; the screenshot is taken anyway, since the notices
   * only affect how it looks.
   */
  async function dismissNotifications(): Promise<void> {
    const selector = '#red-ui-notifications .red-ui-notification';
    await page.evaluate((notices) => {
      document.querySelectorAll<HTMLElement>(notices).forEach((notice) => notice.click());
    }, selector);
    await page
      .waitForFunction((notices) => document.querySelectorAll(notices).length === 0, selector, {
        timeout: 2000,
      })
      .catch(() => undefined);
  }

  /** Opens a node's edit tray by double-clicking it and waits until the tray stops sliding. */
  async function openEditor(nodeId: string): Promise<void> {
    await page.dblclick(`#${nodeId} .red-ui-flow-node`);
    await page.locator('#node-dialog-ok').click({ trial: true });
  }

  /**
   * Clicks an inject node's button and waits for the editor's "Successfully injected" notice,
   * which comes with the runtime's response and would otherwise appear in a later screenshot.
   */
  async function clickInject(nodeId: string): Promise<void> {
    await dismissNotifications();
    await page.click(`#${nodeId} .red-ui-flow-node-button`);
    await page.locator('.red-ui-notification', { hasText: 'Successfully injected' }).waitFor();
  }

  /** Waits until a node's status indicator has the given shape and colour ("dot-green"). */
  async function waitForStatus(nodeId: string, look: string, timeout?: number): Promise<void> {
    await page.waitForFunction(
      ([id, className]) =>
        document
          .querySelector(`#${id} .red-ui-flow-node-status`)
          ?.getAttribute('class')
          ?.includes(className) ?? false,
      [nodeId, `red-ui-flow-node-status-${look}`],
      { timeout },
    );
  }

  async function hasStatus(nodeId: string, look: string): Promise<boolean> {
    const className = await page
      .locator(`#${nodeId} .red-ui-flow-node-status`)
      .getAttribute('class');
    return (className ?? '').includes(`red-ui-flow-node-status-${look}`);
  }

  async function statusText(nodeId: string): Promise<string> {
    const text = await page.locator(`#${nodeId} .red-ui-flow-node-status-label`).textContent();
    return text ?? '';
  }

  function device(): Emulator {
    assert.ok(emulator, 'the emulator is not running');
    return emulator;
  }

  function deviceList(route: '/json/eff' | '/json/pal'): string[] {
    return JSON.parse(device().device.handleGet(route, new URLSearchParams()).body) as string[];
  }

  function deviceState(): {
    bri: number;
    seg: Array<{ id: number; fx: number; pal: number; sx: number }>;
  } {
    return device().device.snapshot().state as ReturnType<typeof deviceState>;
  }

  it('palette shows the nodes under WLED', async () => {
    const category = page.locator('#red-ui-palette-container-WLED');
    await category.scrollIntoViewIfNeeded();
    await screenshot('01-palette');

    assert.equal((await page.locator('#red-ui-palette-header-WLED').innerText()).trim(), 'WLED');
    const types = await category
      .locator('.red-ui-palette-node')
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-palette-type')));
    const flowNodeTypes = nodeTypes.filter((type) => type !== DEVICE_TYPE);
    assert.deepEqual(types.sort(), flowNodeTypes.sort());
  });

  it('imports the demo from Examples', async () => {
    await page.click('#red-ui-header-button-sidemenu');
    await page.click('#menu-item-import');
    await page.click(
      '#red-ui-clipboard-dialog-import-tabs a[href="#red-ui-clipboard-dialog-import-tab-examples"]',
    );

    const examples = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
    await examples.locator('.red-ui-treeList-label-text', { hasText: packageName }).click();
    await examples.locator('.red-ui-treeList-label-text', { hasText: /^demo$/ }).click();
    await screenshot('02-import-examples');
    await page.click('#red-ui-clipboard-dialog-ok');

    // The demo brings its own tab, which the import does not open.
    await page.click(`#red-ui-workspace-tabs a[href="#${DEMO.tab}"]`);
    for (const id of [DEMO.setState, DEMO.effect, DEMO.injectBrightness64]) {
      await page.waitForSelector(`#${id}`);
    }
    await screenshot('03-demo-imported');
  });

  it('config dialog tests the connection', async () => {
    await openEditor(DEMO.effect);

    // The pencil beside the device select opens the config node's dialog on top.
    await page.click('#node-input-btn-device-edit');
    await page.locator('#node-config-dialog-ok').click({ trial: true });
    const result = page.locator('#wled-jsonapi-test-result');

    await page.fill('#node-config-input-host', CLOSED_HOST);
    await page.click('#wled-jsonapi-test');
    await page.waitForFunction(() =>
      /^\w[\w-]*: /.test(document.querySelector('#wled-jsonapi-test-result')?.textContent ?? ''),
    );
    await screenshot('04-config-test-failed');
    assert.match(await result.innerText(), /^unreachable: /);

    await page.fill('#node-config-input-host', `127.0.0.1:${device().port}`);
    await page.click('#wled-jsonapi-test');
    await page.waitForFunction(() =>
      (document.querySelector('#wled-jsonapi-test-result')?.textContent ?? '').includes(' LEDs'),
    );
    await screenshot('05-config-test-ok');

    const info = device().device.snapshot().info as {
      name: string;
      ver: string;
      leds: { count: number };
    };
    const text = await result.innerText();
    assert.ok(
      text.startsWith(`${info.name} · WLED ${info.ver} · ${info.leds.count} LEDs · `),
      text,
    );
    assert.match(text, / · \d+ ms$/);

    // Closing the dialog makes the effect dialog reload its lists from the new host; the next
    // test reads them, so this one waits for that load's response.
    const reloaded = page.waitForResponse((response) =>
      new URL(response.url()).pathname.endsWith('/effects'),
    );
    await page.click('#node-config-dialog-ok');
    await reloaded;
  });

  it('effect dialog lists the device effects', async () => {
    // Still in the effect dialog, whose lists now come from the new host.
    await page.waitForSelector('#wled-jsonapi-effect-select option[value="Fire 2012"]', {
      state: 'attached',
    });
    await page.waitForFunction(
      () => (document.querySelector('#wled-jsonapi-lists-note')?.textContent ?? '') === '',
    );

    const expectedEffects = deviceList('/json/eff')
      .map((name, id) => ({ name, id }))
      .filter((entry) => !PLACEHOLDER_NAMES.has(entry.name.trim()))
      .map((entry) => `${entry.id}: ${entry.name}`);
    const effectOptions = await page
      .locator('#wled-jsonapi-effect-select option')
      .evaluateAll((options) => options.slice(1).map((option) => option.textContent));
    assert.deepEqual(effectOptions, expectedEffects);

    const paletteOptions = await page
      .locator('#wled-jsonapi-palette-select option')
      .evaluateAll((options) => options.slice(1).map((option) => option.getAttribute('value')));
    assert.ok(paletteOptions.includes('Lava'), `palettes: ${paletteOptions.join(', ')}`);
    assert.equal(await page.locator('#wled-jsonapi-lists-note').innerText(), '');

    const segments = deviceState().seg;
    await page.waitForSelector('#wled-jsonapi-segments input[type="checkbox"]');
    const segmentBoxes = await page
      .locator('#wled-jsonapi-segments input[type="checkbox"]')
      .evaluateAll((boxes) => boxes.map((box) => (box as HTMLInputElement).value));
    assert.deepEqual(
      segmentBoxes,
      segments.map((segment) => String(segment.id)),
    );
  });

  it('effect dialog labels sliders from fxdata', async () => {
    const speedLabel = page.locator('#wled-jsonapi-speed-label');
    const intensityLabel = page.locator('#wled-jsonapi-intensity-label');
    const intensityRow = page.locator('#wled-jsonapi-intensity-row');

    // Fire 2012 is "Cooling,Spark rate;;!" in fxdata: its own slider names, no colours.
    await page.selectOption('#wled-jsonapi-effect-select', 'Fire 2012');
    await screenshot('06-effect-fire-2012');
    assert.equal(await speedLabel.innerText(), 'Cooling');
    assert.equal(await intensityLabel.innerText(), 'Spark rate');
    assert.equal(
      await page.locator('#wled-jsonapi-fxdata').innerText(),
      'Uses no colours · Uses the palette',
    );

    // Breathe is "!;!,!;!": the default speed name, no intensity slider, two colour slots.
    await page.selectOption('#wled-jsonapi-effect-select', 'Breathe');
    await page.check('#node-input-setColors');
    await screenshot('07-effect-breathe-colours');
    assert.equal(await speedLabel.innerText(), 'Effect speed');
    assert.equal(await intensityRow.isVisible(), false);
    assert.equal(await page.locator('#wled-jsonapi-color-label-0').innerText(), 'Fx');
    assert.equal(await page.locator('#wled-jsonapi-color-label-1').innerText(), 'Bg');
    assert.equal(
      await page.locator('#wled-jsonapi-color-label-2').innerText(),
      'not used by this effect',
    );

    await page.uncheck('#node-input-setColors');
    await page.selectOption('#wled-jsonapi-effect-select', 'Fire 2012');
    assert.equal(await intensityRow.isVisible(), true);
    assert.equal(await page.inputValue('#node-input-effect'), 'Fire 2012');
    await page.click('#node-dialog-ok');
    await page.locator('.red-ui-tray').waitFor({ state: 'detached' });
  });

  it('deploys the demo', async () => {
    await page.click('#red-ui-header-button-deploy');
    await page.waitForSelector('#red-ui-header-button-deploy.disabled', { state: 'attached' });
    // Each node shows its device's connection state as soon as it starts.
    await page.waitForFunction(
      (id) =>
        (document.querySelector(`#${id} .red-ui-flow-node-status-label`)?.textContent ?? '') !== '',
      DEMO.setState,
    );
  });

  it('inject changes device and status turns green', async () => {
    assert.notEqual(deviceState().bri, 64);
    await clickInject(DEMO.injectBrightness64);
    await waitUntil('bri to become 64', () => deviceState().bri === 64);
    await waitForStatus(DEMO.setState, 'dot-green');
    assert.equal(await statusText(DEMO.setState), 'connected');

    const fire = deviceList('/json/eff').indexOf('Fire 2012');
    const lava = deviceList('/json/pal').indexOf('Lava');
    await clickInject(DEMO.injectFireOnLava);
    await waitUntil('Fire 2012 on Lava', () => {
      const segment = deviceState().seg[0];
      return segment.fx === fire && segment.pal === lava && segment.sx === 160;
    });
    await waitForStatus(DEMO.effect, 'dot-green');
    await screenshot('08-status-connected');
  });

  it('set-state dialog offers device presets', async () => {
    await openEditor(DEMO.setState);
    await page.waitForSelector('#node-input-preset option[value="1"]', { state: 'attached' });
    await screenshot('09-set-state-presets');

    const presets = JSON.parse(
      device().device.handleGet('/presets.json', new URLSearchParams()).body,
    ) as Record<string, { n?: string; playlist?: unknown }>;
    const expected = Object.entries(presets)
      .filter(([id, preset]) => id !== '0' && Object.keys(preset).length > 0)
      .map(([id, preset]) => `${id}: ${preset.n}${preset.playlist ? ' (playlist)' : ''}`);
    const options = await page
      .locator('#node-input-preset option')
      .evaluateAll((entries) => entries.slice(1).map((entry) => entry.textContent));
    assert.deepEqual(options, expected);

    // The State field is a typed input set to msg.payload. The transition field states its unit.
    const payloadRow = page.locator('.form-row', { has: page.locator('#node-input-payload') });
    assert.equal(await payloadRow.locator('.red-ui-typedInput-type-label').innerText(), 'msg.');
    assert.equal(await page.inputValue('#node-input-payload'), 'payload');
    const transitionRow = page.locator('.form-row', {
      has: page.locator('#node-input-transition'),
    });
    assert.match(await transitionRow.innerText(), /seconds/);

    await page.click('#node-dialog-cancel');
    await page.locator('.red-ui-tray').waitFor({ state: 'detached' });
  });

  it('deployed dialog reads through config node', async () => {
    const listsRead = page.waitForResponse((response) =>
      response.url().includes(`/wled-jsonapi/devices/${DEMO.device}/effects`),
    );
    await openEditor(DEMO.effect);
    assert.equal((await listsRead).status(), 200);
    await page.waitForSelector('#wled-jsonapi-effect-select option[value="Rainbow"]', {
      state: 'attached',
    });
    assert.equal(await page.locator('#wled-jsonapi-speed-label').innerText(), 'Cooling');

    // An unchanged, deployed config node tests the connection through its own client.
    await page.click('#node-input-btn-device-edit');
    await page.locator('#node-config-dialog-ok').click({ trial: true });
    const testRead = page.waitForResponse((response) =>
      response.url().includes(`/wled-jsonapi/devices/${DEMO.device}/test`),
    );
    await page.click('#wled-jsonapi-test');
    assert.equal((await testRead).status(), 200);
    await page.waitForFunction(() =>
      (document.querySelector('#wled-jsonapi-test-result')?.textContent ?? '').includes(' LEDs'),
    );

    // The status view shows the deployed client's counters.
    await page.waitForFunction(() =>
      (document.querySelector('#wled-jsonapi-stats')?.textContent ?? '').includes(' requests'),
    );
    const stats = await page.locator('#wled-jsonapi-stats').innerText();
    assert.match(stats, /^connected since /);
    assert.match(stats, /\d+ requests, \d+ answered/);
    assert.match(stats, /Live state: websocket/);
    await screenshot('12-config-status-view');
    await page.click('#node-config-dialog-cancel');

    await page.click('#node-dialog-cancel');
    await page.locator('.red-ui-tray').waitFor({ state: 'detached' });
  });

  it('status turns red when the device stops', async () => {
    await device().close();
    emulator = undefined;

    // The node whose request failed turns red at once.
    await clickInject(DEMO.injectOn);
    await waitForStatus(DEMO.setState, 'ring-red');
    assert.equal(await statusText(DEMO.setState), 'failed: unreachable');

    // Every node of the device turns red once the device counts as unreachable. That takes 3
    // failures in a row by default, so the loop allows up to 5 requests.
    let clicks = 1;
    while (!(await hasStatus(DEMO.effect, 'ring-red'))) {
      assert.ok(clicks < 5, `the effect node is not red after ${clicks} failed requests`);
      await clickInject(DEMO.injectOn);
      clicks += 1;
      await waitForStatus(DEMO.effect, 'ring-red', 2000).catch(() => undefined);
    }
    await screenshot('10-status-unreachable');
    assert.equal(await statusText(DEMO.effect), 'unreachable');
  });

  it('effect dialog explains empty lists', async () => {
    await openEditor(DEMO.effect);
    await page.waitForSelector('#wled-jsonapi-effect-select option[value="Fire 2012"]', {
      state: 'attached',
    });

    // Another host makes the dialog read through the probe route, so no cached list helps.
    await page.click('#node-input-btn-device-edit');
    await page.locator('#node-config-dialog-ok').click({ trial: true });
    await page.fill('#node-config-input-host', CLOSED_HOST);
    await page.click('#node-config-dialog-ok');

    const note = page.locator('#wled-jsonapi-lists-note');
    await page.waitForFunction(() =>
      (document.querySelector('#wled-jsonapi-lists-note')?.textContent ?? '').includes(
        'could not be read',
      ),
    );
    await screenshot('11-effect-device-unreachable');
    assert.match(
      await note.innerText(),
      /could not be read\. The values already set are kept\. unreachable: /,
    );
    assert.equal(await page.locator('#node-input-effect').isVisible(), true);
    assert.equal(await page.inputValue('#node-input-effect'), 'Fire 2012');
    assert.equal(await page.locator('#wled-jsonapi-effect-select').isVisible(), false);

    await page.click('#node-dialog-cancel');
  });
});
