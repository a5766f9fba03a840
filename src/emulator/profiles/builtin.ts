/**
 * The built-in device profile: a 0.15-style ESP32 with one RGB segment, a short effect list,
 * the first palettes and a small presets file. Effects keep the ids real firmware uses, and
 * unused ids are `RSVD` as on a build that leaves effects out. The data is written for this
 * project, so the emulator works without any captured fixtures.
 */

export interface BuiltinEffect {
  name: string;
  /** The part of the effect descriptor after `@` (sliders;colours;palette;flags;defaults). */
  metadata: string;
}

export interface BuiltinPalette {
  name: string;
  /** `/json/palx` entry: `[pos, r, g, b]` stops, or the symbolic form of dynamic palettes. */
  colors: unknown;
}

const RESERVED: BuiltinEffect = { name: 'RSVD', metadata: '' };

/** Effects by id; ids 13 to 65 are reserved so that Fire 2012 keeps its firmware id 66. */
const EFFECTS: BuiltinEffect[] = [
  { name: 'Solid', metadata: '' },
  { name: 'Blink', metadata: '!,Duty cycle;!,!;!;01' },
  { name: 'Breathe', metadata: '!;!,!;!;01' },
  { name: 'Wipe', metadata: '!,!;!,!;!' },
  { name: 'Wipe Random', metadata: '!;;!' },
  { name: 'Random Colors', metadata: '!,Fade time;;!;01' },
  RESERVED,
  { name: 'Dynamic', metadata: '!,!,,,,Smooth;;!' },
  { name: 'Colorloop', metadata: '!,Saturation;;!;01' },
  { name: 'Rainbow', metadata: '!,Size;;!' },
  { name: 'Scan', metadata: '!,# of dots,,,,,Overlay;!,!,!;!' },
  RESERVED,
  { name: 'Fade', metadata: '!;!,!;!;01' },
  ...Array.from({ length: 66 - 13 }, () => RESERVED),
  { name: 'Fire 2012', metadata: 'Cooling,Spark rate;;!;1;sx=64,ix=160,pal=8' },
];

/** Gradient stops of our own choosing; ids and names match the firmware's first palettes. */
const PARTY_COLORS = [
  [0, 90, 0, 170],
  [48, 200, 0, 80],
  [96, 230, 40, 0],
  [144, 180, 140, 0],
  [192, 220, 20, 40],
  [255, 80, 0, 200],
];

const PALETTES: BuiltinPalette[] = [
  // The firmware shows "Default" with the Party colours.
  { name: 'Default', colors: PARTY_COLORS },
  { name: '* Random Cycle', colors: ['r', 'r', 'r', 'r'] },
  { name: '* Color 1', colors: ['c1'] },
  { name: '* Colors 1&2', colors: ['c1', 'c1', 'c2', 'c2'] },
  { name: '* Color Gradient', colors: ['c3', 'c2', 'c1'] },
  {
    name: '* Colors Only',
    colors: [...Array(5).fill('c1'), ...Array(5).fill('c2'), ...Array(5).fill('c3'), 'c1'],
  },
  { name: 'Party', colors: PARTY_COLORS },
  {
    name: 'Cloud',
    colors: [
      [0, 0, 40, 200],
      [128, 120, 190, 240],
      [255, 250, 250, 255],
    ],
  },
  {
    name: 'Lava',
    colors: [
      [0, 0, 0, 0],
      [80, 130, 0, 0],
      [160, 255, 20, 0],
      [220, 255, 170, 0],
      [255, 255, 255, 220],
    ],
  },
  {
    name: 'Ocean',
    colors: [
      [0, 20, 20, 110],
      [90, 0, 40, 150],
      [170, 0, 130, 140],
      [255, 120, 250, 210],
    ],
  },
  {
    name: 'Forest',
    colors: [
      [0, 0, 90, 0],
      [85, 30, 130, 30],
      [170, 100, 140, 40],
      [255, 140, 230, 140],
    ],
  },
];

const DEFAULT_LEDS = 30;

function presetSegment(color: number[], fx: number, pal: number) {
  return {
    id: 0,
    start: 0,
    stop: DEFAULT_LEDS,
    grp: 1,
    spc: 0,
    of: 0,
    on: true,
    frz: false,
    bri: 255,
    cct: 127,
    set: 0,
    n: '',
    col: [color, [0, 0, 0], [0, 0, 0]],
    fx,
    sx: 128,
    ix: 128,
    pal,
    c1: 128,
    c2: 128,
    c3: 16,
    sel: true,
    rev: false,
    mi: false,
    o1: false,
    o2: false,
    o3: false,
    si: 0,
    m12: 0,
  };
}

/** Two state presets and one playlist cycling through them every 5 s (`dur` is in 100 ms). */
const PRESETS = {
  '0': {},
  '1': {
    on: true,
    bri: 128,
    transition: 7,
    mainseg: 0,
    seg: [presetSegment([255, 190, 120], 0, 0)],
    n: 'Warm White',
  },
  '2': {
    on: true,
    bri: 200,
    transition: 7,
    mainseg: 0,
    seg: [presetSegment([255, 0, 0], 9, 6)],
    n: 'Party Rainbow',
  },
  '3': {
    playlist: { ps: [1, 2], dur: [50, 50], transition: [7, 7], repeat: 0, end: 0, r: 0 },
    on: true,
    n: 'Cycle',
  },
};

const STATE = {
  on: true,
  bri: 128,
  transition: 7,
  ps: -1,
  pl: -1,
  ledmap: 0,
  nl: { on: false, dur: 60, mode: 1, tbri: 0, rem: -1 },
  udpn: { send: false, recv: true, sgrp: 1, rgrp: 1 },
  lor: 0,
  mainseg: 0,
  seg: [
    {
      id: 0,
      start: 0,
      stop: DEFAULT_LEDS,
      len: DEFAULT_LEDS,
      grp: 1,
      spc: 0,
      of: 0,
      on: true,
      frz: false,
      bri: 255,
      cct: 127,
      set: 0,
      col: [
        [255, 160, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
      fx: 0,
      sx: 128,
      ix: 128,
      pal: 0,
      c1: 128,
      c2: 128,
      c3: 16,
      sel: true,
      rev: false,
      mi: false,
      o1: false,
      o2: false,
      o3: false,
      si: 0,
      m12: 0,
    },
  ],
};

/** Info in the 0.15.3 key order; live fields (uptime, time, ws, counts) are overwritten. */
const INFO = {
  ver: '0.15.3',
  vid: 2508020,
  cn: 'Kōsen',
  release: 'ESP32',
  repo: 'wled/WLED',
  deviceId: '0e1d2c3b4a5968778695a4b3c2d1e0f0e1d2c3b4a5',
  leds: {
    count: DEFAULT_LEDS,
    pwr: 0,
    fps: 42,
    maxpwr: 0,
    maxseg: 32,
    bootps: 0,
    seglc: [1],
    lc: 1,
    rgbw: false,
    wv: 0,
    cct: 0,
  },
  str: false,
  name: 'WLED Emulator',
  udpport: 21324,
  simplifiedui: false,
  live: false,
  liveseg: -1,
  lm: '',
  lip: '',
  ws: 0,
  fxcount: EFFECTS.length,
  palcount: PALETTES.length,
  cpalcount: 0,
  maps: [{ id: 0 }],
  wifi: { bssid: '02:00:00:00:00:01', rssi: -52, signal: 96, channel: 1, ap: false },
  fs: { u: 8, t: 983, pmt: 0 },
  ndc: 0,
  arch: 'esp32',
  core: 'v3.3.6-16-gcc5440f6a2',
  clock: 240,
  flash: 4,
  lwip: 0,
  freeheap: 190000,
  uptime: 0,
  time: '1970-1-1, 00:00:00',
  opt: 79,
  brand: 'WLED',
  product: 'FOSS',
  mac: 'aabbccddeeff',
  ip: '127.0.0.1',
};

export const BUILTIN_PROFILE = {
  state: STATE as Record<string, unknown>,
  info: INFO as Record<string, unknown>,
  effects: EFFECTS,
  palettes: PALETTES,
  presets: PRESETS as Record<string, unknown>,
};
