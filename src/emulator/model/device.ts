/**
 * The emulated device: WLED's JSON routes, presets, playlists, the nightlight timer and the
 * live info values, on top of `DeviceState`. It has no sockets, because the server frames
 * its `ModelResponse`s.
 */

import type { DeviceModel, DeviceSnapshot, ModelResponse, ProfileInfo } from '../types';
import { Playlist } from './playlist';
import type { JsonObject, LoadedProfile } from './profile';
import { DeviceState, type StateActions, type StateContext } from './state';
import { isPlainObject, type RandomSource } from './values';

export interface DeviceOptions {
  /** Number of LEDs; overrides the profile's `info.leds.count`. */
  leds?: number;
  random?: RandomSource;
  /** Clock in epoch milliseconds (tests may pass a fake one). */
  now?: () => number;
}

const NOT_FOUND_PAGE =
  '<!DOCTYPE html><html><head><title>Not found</title></head><body><h1>404 Not Found</h1></body></html>';

function jsonResponse(status: number, body: string): ModelResponse {
  return { status, body, contentType: 'application/json' };
}

function notFound(): ModelResponse {
  return { status: 404, body: NOT_FOUND_PAGE, contentType: 'text/html' };
}

/** Estimated ArduinoJson memory for a parsed document: 16 bytes per value on 32-bit chips. */
function documentSlots(value: unknown): number {
  if (Array.isArray(value))
    return value.reduce((sum: number, item) => sum + documentSlots(item), 1);
  if (isPlainObject(value)) {
    return Object.values(value).reduce((sum: number, item) => sum + documentSlots(item), 1);
  }
  return 1;
}

export class EmulatedDevice implements DeviceModel {
  readonly profile: ProfileInfo;

  private state!: DeviceState;
  private readonly ctx: StateContext;
  private readonly random: RandomSource;
  private readonly now: () => number;
  private readonly listeners = new Set<() => void>();
  private bootedAt: number;
  private mac: string;
  private wsClients = 0;
  private presets: JsonObject;
  private presetsText: string;
  private playlist: Playlist | undefined;
  private nightlightTimer: NodeJS.Timeout | undefined;
  /** Incremented on reboot so that preset loads queued before it are dropped. */
  private generation = 0;

  constructor(
    private readonly loaded: LoadedProfile,
    options: DeviceOptions = {},
  ) {
    this.profile = loaded.info;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.ctx = this.buildContext(options.leds);
    this.presetsText = loaded.presetsText;
    this.presets = JSON.parse(loaded.presetsText) as JsonObject;
    this.mac = String(loaded.infoDoc.mac ?? 'aabbccddeeff');
    this.bootedAt = this.now();
    this.resetState();
  }

  private buildContext(leds: number | undefined): StateContext {
    const { state, infoDoc, info } = this.loaded;
    const firstSeg = Array.isArray(state.seg) && isPlainObject(state.seg[0]) ? state.seg[0] : {};
    const ledInfo = isPlainObject(infoDoc.leds) ? infoDoc.leds : {};
    const firstColor = Array.isArray(firstSeg.col) ? (firstSeg.col[0] as unknown[]) : [];
    const hasWhite = firstColor.length === 4;
    const maps = Array.isArray(infoDoc.maps) ? infoDoc.maps : [{ id: 0 }];

    return {
      line: info.line,
      ledCount: leds ?? Number(ledInfo.count ?? 30),
      maxSegments: Number(ledInfo.maxseg ?? (info.arch === 'esp8266' ? 16 : 32)),
      effects: this.loaded.effects,
      fxdata: this.loaded.fxdata,
      builtinPalettes: this.loaded.palettes.length,
      customPalettes: Number(infoDoc.cpalcount ?? 0),
      keys: Object.keys(firstSeg),
      colorWidth: hasWhite ? 4 : 3,
      maxNameLength:
        info.arch === 'esp32' && (info.line === '0.15' || info.line === '16') ? 64 : 32,
      random: this.random,
      numberStringMax: info.line === '0.13' ? 10 : 12,
      stateKeys: Object.keys(state),
      nlKeys: Object.keys(isPlainObject(state.nl) ? state.nl : {}),
      udpnKeys: Object.keys(isPlainObject(state.udpn) ? state.udpn : {}),
      ledmaps: maps.map((map) => Number((map as JsonObject).id ?? 0)),
      segmentLc: hasWhite ? 3 : 1,
    };
  }

  private resetState() {
    this.playlist?.stop();
    this.playlist = undefined;
    this.clearNightlightTimer();
    this.state = new DeviceState(this.loaded.state, this.ctx);
  }

  // ---- DeviceModel ------------------------------------------------------------------------

  handleGet(path: string, query: URLSearchParams): ModelResponse {
    return this.route(path, query, true);
  }

  handlePost(path: string, body: string): ModelResponse {
    if (path !== '/json' && !path.startsWith('/json/')) return notFound();
    // A missing, chunked or form-encoded body reaches the handler empty, which returns 400.
    if (body.length === 0) return { status: 400, body: '' };

    let root: unknown;
    try {
      root = JSON.parse(body);
    } catch {
      return jsonResponse(400, '{"error":9}');
    }
    // A document larger than the firmware's JSON buffer fails to parse on the device.
    if (!isPlainObject(root) || documentSlots(root) * 16 > this.profile.jsonBufferSize) {
      return jsonResponse(400, '{"error":9}');
    }

    // NOTE: configuration writes are accepted and dropped; the emulator has no cfg.json.
    if (path.includes('cfg')) return jsonResponse(200, '{"success":true}');

    this.applyRequest(root, 0);

    if (root.v === true) return this.route(path, new URLSearchParams(), true);
    return jsonResponse(200, '{"success":true}');
  }

  snapshot(): DeviceSnapshot {
    return { state: this.stateDocument(), info: this.infoDocument() };
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reboot(): void {
    this.generation++;
    this.bootedAt = this.now();
    this.resetState();
    this.notify();
  }

  setMac(mac: string): void {
    this.mac = mac;
  }

  setWsClients(count: number): void {
    this.wsClients = count;
  }

  // ---- Requests -----------------------------------------------------------------------------

  /**
   * Applies a state request; `presetId` > 0 when it is a preset's content. Any change that
   * is not a preset load clears `ps` ("no longer in a preset").
   */
  private applyRequest(root: JsonObject, presetId: number): boolean {
    this.checkNightlight();
    const before = this.changeSignature();
    const actions = this.state.apply(root, presetId);

    if (actions.nightlightStarted) this.startNightlight();
    if (!this.state.nl.on) this.clearNightlightTimer();
    if (actions.effectSent && presetId === 0) this.stopPlaylist();

    // Sending `nl` counts as a change even when it repeats the current values.
    const changed = this.changeSignature() !== before || isPlainObject(root.nl);
    if (changed) this.state.ps = presetId > 0 ? presetId : -1;

    this.runActions(actions, root, presetId);
    if (changed) this.notify();
    return changed;
  }

  private runActions(actions: StateActions, root: JsonObject, presetId: number) {
    if (actions.savePreset !== undefined) this.savePreset(actions.savePreset, root);
    if (actions.deletePreset !== undefined) this.deletePreset(actions.deletePreset);

    if (actions.preset !== undefined) {
      // A preset requested by hand replaces a running playlist.
      if (presetId === 0) this.stopPlaylist();
      this.queuePreset(actions.preset);
    }

    if (actions.playlist) this.startPlaylist(actions.playlist, presetId);
    if (actions.nextPlaylistEntry) this.playlist?.next();

    if (actions.reboot) {
      const generation = this.generation;
      setImmediate(() => {
        if (generation === this.generation) this.reboot();
      });
    }
  }

  /**
   * Serializes the parts of the state that count as a change. It leaves out `ps`, `pl`,
   * `error`, `nl.rem` and segment selection, which the firmware's change check ignores.
   */
  private changeSignature(): string {
    const doc = this.state.serialize(0);
    delete doc.ps;
    delete doc.pl;
    delete doc.error;
    for (const seg of doc.seg as JsonObject[]) delete seg.sel;
    return JSON.stringify(doc);
  }

  private notify() {
    for (const listener of [...this.listeners]) listener();
  }

  // ---- Presets and playlists ----------------------------------------------------------------

  /** Loads a preset on the next turn of the event loop, as the firmware does from `loop()`. */
  private queuePreset(id: number) {
    const generation = this.generation;
    setImmediate(() => {
      if (generation === this.generation) this.loadPreset(id, false);
    });
  }

  /** Applies preset `id`; a missing one sets `error` 12 for the next state read. */
  loadPreset(id: number, fromPlaylist: boolean) {
    const preset = this.presets[String(id)];
    if (!isPlainObject(preset) || Object.keys(preset).length === 0) {
      this.state.error = 12;
      this.notify();
      return;
    }

    if (isPlainObject(preset.playlist) && !fromPlaylist) {
      this.stopPlaylist();
      this.applyRequest(withoutKeys(preset, ['playlist', 'n', 'ql']), id);
      this.startPlaylist(preset.playlist, id);
      return;
    }

    const changed = this.applyRequest(withoutKeys(preset, ['n', 'ql', 'playlist', 'ps']), id);
    const psChanged = this.state.ps !== id;
    this.state.ps = id;
    this.state.presetCycle = id;
    if (!changed && psChanged) this.notify();
  }

  private startPlaylist(spec: JsonObject, id: number) {
    this.stopPlaylist();
    const playlist = Playlist.fromSpec(spec, id, this.random, {
      applyPreset: (presetId) => this.loadPreset(presetId, true),
      finished: (endPreset) => {
        this.playlist = undefined;
        this.state.pl = -1;
        if (endPreset > 0) this.loadPreset(endPreset, false);
        this.notify();
      },
    });
    if (!playlist) return;

    this.playlist = playlist;
    this.state.pl = id;
    playlist.start();
  }

  private stopPlaylist() {
    if (!this.playlist) return;
    this.playlist.stop();
    this.playlist = undefined;
    this.state.pl = -1;
  }

  /**
   * Saves preset `id` from the request's `psave`. With `o: true` the request itself is stored
   * (an API preset). Otherwise the current state is stored: brightness unless `ib` is false,
   * segment bounds unless `sb` is false, and `{"stop":0}` for every unused segment slot.
   */
  private savePreset(id: number, root: JsonObject) {
    const name = typeof root.n === 'string' && root.n !== '' ? root.n : `Preset ${id}`;
    const preset =
      root.o === true
        ? withoutKeys(root, ['psave', 'n', 'o', 'v', 'time', 'ql', 'ib', 'sb', 'sc'])
        : this.stateForPreset(root.ib !== false, root.sb !== false);

    preset.n = name;
    if (typeof root.ql === 'string') preset.ql = root.ql;
    this.presets[String(id)] = preset;
    this.presetsText = JSON.stringify(this.presets);
    if (root.o !== true) this.state.ps = id;
  }

  private stateForPreset(includeBri: boolean, segmentBounds: boolean): JsonObject {
    const state = this.state.serialize(-1);
    const bounds = ['start', 'stop', 'startY', 'stopY'];
    const segments: JsonObject[] = (state.seg as JsonObject[]).map((seg) => {
      // Presets always carry a name, empty when the segment has none, before `col`.
      const out: JsonObject = {};
      for (const [key, value] of Object.entries(seg)) {
        if (key === 'len' || key === 'n' || (!segmentBounds && bounds.includes(key))) continue;
        if (key === 'col') out.n = seg.n ?? '';
        out[key] = value;
      }
      return out;
    });
    if (segmentBounds) {
      while (segments.length < this.ctx.maxSegments) segments.push({ stop: 0 });
    }

    const preset: JsonObject = {};
    if (includeBri) {
      preset.on = state.on;
      preset.bri = state.bri;
      preset.transition = state.transition;
    }
    preset.mainseg = state.mainseg;
    preset.seg = segments;
    return preset;
  }

  private deletePreset(id: number) {
    delete this.presets[String(id)];
    this.presetsText = JSON.stringify(this.presets);
  }

  // ---- Nightlight ----------------------------------------------------------------------------

  private startNightlight() {
    this.state.nlStartedAt = this.now();
    this.clearNightlightTimer();
    this.nightlightTimer = setTimeout(() => this.checkNightlight(), this.state.nl.dur * 60_000);
    this.nightlightTimer.unref();
  }

  private clearNightlightTimer() {
    if (this.nightlightTimer) clearTimeout(this.nightlightTimer);
    this.nightlightTimer = undefined;
  }

  /** Seconds the nightlight has left, -1 when it is off. */
  private nightlightRemaining(): number {
    if (!this.state.nl.on) return -1;
    const elapsed = Math.floor((this.now() - this.state.nlStartedAt) / 1000);
    return Math.max(0, this.state.nl.dur * 60 - elapsed);
  }

  /** Ends an expired nightlight at its target brightness (0 switches the light off). */
  private checkNightlight() {
    if (!this.state.nl.on || this.nightlightRemaining() > 0) return;

    this.clearNightlightTimer();
    this.state.nl.on = false;
    // NOTE: the fade modes jump to the target at the end instead of dimming gradually.
    if (this.state.nl.tbri === 0) this.state.apply({ on: false });
    else this.state.apply({ bri: this.state.nl.tbri });
    this.state.ps = -1;
    this.notify();
  }

  // ---- Documents -----------------------------------------------------------------------------

  private stateDocument(): JsonObject {
    this.checkNightlight();
    return this.state.serialize(this.nightlightRemaining());
  }

  /** State text for a response; the one-shot `error` is cleared once it has been sent. */
  private stateText(): string {
    const text = JSON.stringify(this.stateDocument());
    this.state.error = undefined;
    return text;
  }

  private uptimeSeconds(): number {
    return Math.floor((this.now() - this.bootedAt) / 1000);
  }

  /** `info.time` without NTP: the clock starts at the epoch on boot ("1970-1-1, 00:01:12"). */
  private timeText(): string {
    const date = new Date(this.uptimeSeconds() * 1000);
    const pad = (n: number) => String(n).padStart(2, '0');
    return (
      `${date.getUTCFullYear()}-${date.getUTCMonth() + 1}-${date.getUTCDate()}, ` +
      `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`
    );
  }

  private infoDocument(): JsonObject {
    const info = structuredClone(this.loaded.infoDoc);
    const leds = isPlainObject(info.leds) ? info.leds : undefined;
    if (leds) {
      leds.count = this.ctx.ledCount;
      if ('seglc' in leds) leds.seglc = this.state.segmentCapabilities();
    }

    const set = (key: string, value: unknown) => {
      if (key in info) info[key] = value;
    };
    set('ws', this.wsClients);
    set('fxcount', this.loaded.effects.length);
    set('palcount', this.paletteCount());
    set('uptime', this.uptimeSeconds());
    set('time', this.timeText());
    set('mac', this.mac);
    return info;
  }

  /** 0.15 and later count custom palettes in `palcount`; 0.14 and older only built-ins. */
  private paletteCount(): number {
    const line = this.profile.line;
    const custom = line === '0.15' || line === '16' ? this.ctx.customPalettes : 0;
    return this.loaded.palettes.length + custom;
  }

  // ---- Routing -------------------------------------------------------------------------------

  /**
   * WLED's GET router: the first substring of the path that matches decides, in firmware
   * order, so `/json/xsix` is the `si` document. `consumeError` clears the one-shot `error`.
   */
  private route(path: string, query: URLSearchParams, consumeError: boolean): ModelResponse {
    if (path === '/presets.json') return jsonResponse(200, this.presetsText);
    if (path !== '/json' && !path.startsWith('/json/')) return notFound();

    const line = this.profile.line;
    const stateText = () =>
      consumeError ? this.stateText() : JSON.stringify(this.stateDocument());
    const infoText = () => JSON.stringify(this.infoDocument());

    if (path.includes('state')) return jsonResponse(200, stateText());
    if (path.includes('info')) return jsonResponse(200, infoText());
    if (path.includes('si'))
      return jsonResponse(200, `{"state":${stateText()},"info":${infoText()}}`);
    if (path.includes('nodes')) return jsonResponse(200, '{"nodes":[]}');
    if (path.includes('eff')) return jsonResponse(200, this.loaded.effectsText);
    if (path.includes('palx')) return jsonResponse(200, this.palxPage(query.get('page')));
    if (path.includes('fxda') && line !== '0.13' && this.loaded.fxdataText !== undefined) {
      return { ...jsonResponse(200, this.loaded.fxdataText), chunked: line === '16' };
    }
    if (path.includes('net') && line !== '0.13') return jsonResponse(200, '{"networks":[]}');
    if (path.includes('live') && line !== '0.13') return jsonResponse(200, this.liveText());
    if (path.includes('pal')) return jsonResponse(200, this.loaded.palettesText);
    if (path.length > '/json/'.length) return this.notImplemented();

    return jsonResponse(
      200,
      `{"state":${stateText()},"info":${infoText()},` +
        `"effects":${this.loaded.effectsText},"palettes":${this.loaded.palettesText}}`,
    );
  }

  private notImplemented(): ModelResponse {
    const line = this.profile.line;
    const body = line === '0.15' || line === '16' ? '{"error":4}' : '{"error":"Not implemented"}';
    return jsonResponse(501, body);
  }

  /** Builds one `/json/palx` page. A page past the last one returns the last page. */
  private palxPage(pageParam: string | null): string {
    const size = this.profile.palxPageSize;
    const entries = this.loaded.palx;
    const lastPage = Math.max(0, Math.floor((entries.length - 1) / size));
    const requested = Number.parseInt(pageParam ?? '0', 10);
    const page = Math.min(lastPage, Number.isFinite(requested) && requested > 0 ? requested : 0);

    const items = entries
      .slice(page * size, page * size + size)
      .map(([id, colors]) => `${JSON.stringify(id)}:${JSON.stringify(colors)}`);
    return `{"m":${lastPage},"p":{${items.join(',')}}}`;
  }

  /** `/json/live`: colour 1 of the segment covering each LED, scaled by brightness. */
  private liveText(): string {
    const limit = this.profile.line === '0.14' ? 180 : 256;
    const count = this.ctx.ledCount;
    const step = Math.ceil(count / limit);
    const master = this.state.bri / 255;
    const leds: string[] = [];

    for (let i = 0; i < count; i += step) {
      const seg = this.state.activeSegments().find((s) => i >= s.start && i < s.stop);
      const [r, g, b, w] = seg && seg.on ? seg.col[0] : [0, 0, 0, 0];
      const scale = master * ((seg?.opacity ?? 255) / 255);
      const channel = (c: number) => Math.min(255, Math.round((c + w) * scale));
      leds.push(
        [channel(r), channel(g), channel(b)]
          .map((c) => c.toString(16).toUpperCase().padStart(2, '0'))
          .join(''),
      );
    }
    return JSON.stringify({ leds, n: step });
  }
}

function withoutKeys(source: JsonObject, keys: string[]): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(source)) if (!keys.includes(key)) out[key] = value;
  return out;
}
