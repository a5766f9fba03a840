/**
 * The offline rules of the Flow Library scorecard (`node-red-dev validate`, node-red-dev-cli
 * 0.1.6), replicated because the tool itself needs the Flow Library catalogue and the npm
 * registry. P08 and N01 need that catalogue and are covered here only for the WLED
 * packages' type names. Also checks what `npm pack` ships.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';

import * as acorn from 'acorn';
import * as walk from 'acorn-walk';

const repoRoot = path.join(__dirname, '..', '..');

// semver ships without type declarations; these are the two functions used here.
interface SemverApi {
  satisfies(version: string, range: string): boolean;
  lt(a: string, b: string): boolean;
}
// NOTE: semver, acorn and acorn-walk come in through node-red and its test helper, not as
// devDependencies of their own.
const semver = createRequire(__filename)('semver') as SemverApi;

/**
 * Latest releases on the npm registry, read on 2026-12-04 (`npm view <name> version` and
 * `npm view node-red dist-tags`). Tests run offline, so these are pinned: update them when a
 * new major appears or a runtime dependency is added.
 */
const LATEST_VERSIONS: Record<string, string> = {
  'node-red': '5.0.7',
  axios: '1.21.1',
  agentkeepalive: '4.6.0',
  ws: '8.23.1',
};

/** The minimum Node.js version of node-red 5.0.7 (its `engines.node` is `>=22.9`). */
const NODE_RED_LATEST_MIN_NODE = '22.9.0';

/** Node-RED releases this package supports, one per supported line. */
const SUPPORTED_NODE_RED = ['3.1.0', '4.1.0', '5.0.7'];

/** Node types of other WLED packages in the Flow Library; Node-RED cannot load two packages sharing a type. */
const TAKEN_TYPES = ['wled', 'wled2', 'wled-device', 'wled get', 'wled set', 'wled-notification'];

/** Scorecard D01: the maximum number of runtime dependencies. */
const MAX_RUNTIME_DEPENDENCIES = 6;

interface PackageJson {
  name: string;
  license?: string;
  repository?: unknown;
  bugs?: unknown;
  keywords?: string[];
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  'node-red'?: { version?: string; nodes?: Record<string, string> };
}

const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
const nodeFiles = Object.entries(pkg['node-red']?.nodes ?? {});

/** One `RED.nodes.registerType` call found in an editor file. */
interface Registration {
  file: string;
  type: string;
  properties: Map<string, acorn.Node>;
}

describe('package scorecard', () => {
  describe('package.json', () => {
    it('P01 declares a license', () => {
      assert.equal(typeof pkg.license, 'string');
      assert.notEqual(pkg.license, '');
    });

    it('P03 declares repository or bugs', () => {
      assert.ok(pkg.repository !== undefined || pkg.bugs !== undefined);
    });

    it('P04 uses an accepted name', () => {
      // The tool passes scoped names, node-red-contrib-* names, and unscoped names that do
      // not start with node-red or nodered.
      const scoped = pkg.name.startsWith('@');
      const contrib = pkg.name.startsWith('node-red-contrib-');
      const reserved = /^(node-red|nodered)/.test(pkg.name);
      assert.ok(
        scoped || contrib || !reserved,
        `name ${pkg.name} must be scoped or start with node-red-contrib-`,
      );
    });

    it('P05 has the node-red keyword', () => {
      assert.ok(pkg.keywords?.includes('node-red'), `keywords: ${JSON.stringify(pkg.keywords)}`);
    });

    it('P06 node-red.version admits 3.1 to 5', () => {
      const range = pkg['node-red']?.version;
      assert.equal(typeof range, 'string', 'node-red.version is missing');
      for (const version of SUPPORTED_NODE_RED) {
        assert.ok(
          semver.satisfies(version, range!),
          `node-red.version ${range} rejects Node-RED ${version}`,
        );
      }
    });

    it('P07 engines.node admits Node 18 to 22.9', () => {
      const range = pkg.engines?.node;
      assert.equal(typeof range, 'string', 'engines.node is missing');
      for (const version of ['18.0.0', '20.0.0', NODE_RED_LATEST_MIN_NODE]) {
        assert.ok(
          semver.satisfies(version, range!),
          `engines.node ${range} rejects Node ${version}`,
        );
      }
    });

    it('lists node files in node-red.nodes', () => {
      assert.ok(nodeFiles.length > 0, 'node-red.nodes is empty');
      for (const [name, file] of nodeFiles) {
        assert.match(file, /\.js$/, `node-red.nodes.${name}`);
      }
    });
  });

  describe('dependencies', () => {
    const dependencies = pkg.dependencies ?? {};

    it('D01 has at most 6 runtime dependencies', () => {
      const names = Object.keys(dependencies);
      assert.ok(
        names.length <= MAX_RUNTIME_DEPENDENCIES,
        `${names.length} runtime dependencies: ${names.join(', ')}`,
      );
    });

    it('does not depend on node-red at runtime', () => {
      assert.equal(dependencies['node-red'], undefined);
    });

    it('D02 has no agent-base below 6', () => {
      const lockFile = path.join(repoRoot, 'package-lock.json');
      const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as {
        packages?: Record<string, { version?: string; dev?: boolean }>;
      };
      assert.ok(
        lock.packages,
        'package-lock.json has no packages section (lockfile version 2 or later expected)',
      );

      const runtimeTree = runtimePackages(lock.packages);
      for (const name of Object.keys(dependencies)) {
        assert.ok(
          runtimeTree.some((entry) => entry.name === name),
          `${name} is missing from package-lock.json`,
        );
      }
      for (const entry of runtimeTree.filter((item) => item.name === 'agent-base')) {
        assert.ok(
          !semver.lt(entry.version, '6.0.0'),
          `${entry.path} is agent-base ${entry.version}`,
        );
      }
    });

    it('D03 dependency ranges admit the latest release', () => {
      for (const [name, range] of Object.entries(dependencies)) {
        const latest = LATEST_VERSIONS[name];
        assert.ok(latest, `${name} has no pinned latest version: add it to LATEST_VERSIONS`);
        assert.ok(
          semver.satisfies(latest, range),
          `${name} range ${range} rejects its latest release ${latest}`,
        );
      }
    });
  });

  describe('editor files', () => {
    it('has an editor file beside each node file', () => {
      for (const [, file] of nodeFiles) {
        const htmlFile = path.join(repoRoot, file.replace(/\.js$/, '.html'));
        assert.ok(fs.existsSync(htmlFile), `${htmlFile} is missing`);
      }
    });

    it('has compiled node files', () => {
      for (const [, file] of nodeFiles) {
        assert.ok(
          fs.existsSync(path.join(repoRoot, file)),
          `${file} is missing: run "npm run build" first`,
        );
      }
    });

    it('registers types with literal settings', () => {
      const registrations = readRegistrations();
      assert.ok(
        registrations.length >= nodeFiles.length,
        'fewer registerType calls than node files',
      );

      for (const { file, type, properties } of registrations) {
        const where = `${file} (${type})`;
        assert.ok(properties.has('category'), `${where}: category is missing`);
        for (const key of ['category', 'color', 'inputs', 'outputs', 'icon']) {
          const value = properties.get(key);
          if (value !== undefined) {
            assert.equal(value.type, 'Literal', `${where}: ${key} must be a literal`);
          }
        }
        for (const key of ['defaults', 'credentials']) {
          const value = properties.get(key);
          if (value !== undefined) {
            assert.equal(
              value.type,
              'ObjectExpression',
              `${where}: ${key} must be an inline object`,
            );
          }
        }
        if (!isConfigNode(properties)) {
          for (const key of ['color', 'inputs', 'outputs', 'icon']) {
            assert.ok(properties.has(key), `${where}: ${key} is missing`);
          }
        }
      }
    });

    it('uses unique type names', () => {
      const types = readRegistrations().map((registration) => registration.type);
      assert.equal(new Set(types).size, types.length, `repeated type in ${types.join(', ')}`);
      for (const type of types) {
        assert.ok(
          !TAKEN_TYPES.includes(type),
          `type ${type} is already used by another WLED package`,
        );
        assert.match(type, /^wled-jsonapi-/);
      }
    });

    it('ships each icon it names', () => {
      for (const { file, type, properties } of readRegistrations()) {
        const icon = literalValue(properties.get('icon'));
        if (typeof icon !== 'string' || icon.startsWith('font-awesome/')) {
          continue;
        }
        const builtIcon = path.join(path.dirname(path.join(repoRoot, file)), 'icons', icon);
        assert.ok(
          fs.existsSync(path.join(repoRoot, 'icons', icon)),
          `${type}: icons/${icon} is missing`,
        );
        assert.ok(
          fs.existsSync(builtIcon),
          `${type}: ${builtIcon} is missing: run "npm run build" first`,
        );
      }
    });

    it('has an en-US message catalogue per node file', () => {
      for (const [, file] of nodeFiles) {
        const catalogue = path.join(
          repoRoot,
          path.dirname(file),
          'locales',
          'en-US',
          `${path.basename(file, '.js')}.json`,
        );
        assert.ok(fs.existsSync(catalogue), `${catalogue} is missing`);
        assert.doesNotThrow(
          () => JSON.parse(fs.readFileSync(catalogue, 'utf8')),
          `${catalogue} is not valid JSON`,
        );
      }
    });
  });

  describe('examples', () => {
    it('N02 every flow node type is in an example', () => {
      const exampleFiles = listFiles(path.join(repoRoot, 'examples')).filter((file) =>
        file.endsWith('.json'),
      );
      assert.ok(exampleFiles.length > 0, 'examples/ has no .json files');

      const usedTypes = new Set<string>();
      for (const file of exampleFiles) {
        const flow: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
        assert.ok(Array.isArray(flow), `${file} must contain a JSON array of nodes`);
        for (const node of flow as Array<{ type?: unknown }>) {
          if (typeof node.type === 'string') {
            usedTypes.add(node.type);
          }
        }
      }

      const flowTypes = readRegistrations()
        .filter((registration) => !isConfigNode(registration.properties))
        .map((registration) => registration.type);
      for (const type of flowTypes) {
        assert.ok(usedTypes.has(type), `no example under examples/ uses ${type}`);
      }
    });
  });

  describe('npm pack', () => {
    let packedFiles: string[];

    before(async function () {
      // npm pack reads the whole tree; a few seconds on a busy machine.
      this.timeout(60000);
      const run = promisify(execFile);
      const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: repoRoot,
        timeout: 55000,
        maxBuffer: 16 * 1024 * 1024,
      });
      const report = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
      packedFiles = report[0].files.map((entry) => entry.path.split(path.sep).join('/'));
    });

    it('ships node, editor and catalogue files', () => {
      for (const [, file] of nodeFiles) {
        const base = file.replace(/\.js$/, '');
        const catalogue = `${path.posix.dirname(file)}/locales/en-US/${path.posix.basename(base)}.json`;
        for (const expected of [file, `${base}.html`, catalogue]) {
          assert.ok(packedFiles.includes(expected), `${expected} is not in the package`);
        }
      }
    });

    it('ships icons and examples', () => {
      const icons = packedFiles.filter((file) => /^nodes\/icons\/[^/]+\.(svg|png)$/.test(file));
      assert.ok(icons.length > 0, 'no icons under nodes/icons/ in the package');

      for (const file of listFiles(path.join(repoRoot, 'examples')).filter((name) =>
        name.endsWith('.json'),
      )) {
        const relative = path.relative(repoRoot, file).split(path.sep).join('/');
        assert.ok(packedFiles.includes(relative), `${relative} is not in the package`);
      }
    });

    it('ships the compiled modules the nodes load', () => {
      // Every relative require() in a shipped node file must resolve to a shipped file.
      for (const file of packedFiles.filter(
        (name) => name.startsWith('nodes/') && name.endsWith('.js'),
      )) {
        const source = fs.readFileSync(path.join(repoRoot, file), 'utf8');
        for (const match of source.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
          const target = path.posix.join(path.posix.dirname(file), match[1]);
          const candidates = [target, `${target}.js`, `${target}/index.js`];
          assert.ok(
            candidates.some((candidate) => packedFiles.includes(candidate)),
            `${file} requires ${match[1]}, which is not in the package`,
          );
        }
      }
    });

    it('ships the README', () => {
      // The Flow Library shows the package's README as its page.
      assert.ok(packedFiles.includes('README.md'), 'README.md is not in the package');
    });

    it('ships no tests, sources or fixtures', () => {
      const forbidden = [
        /^test\//,
        /^src\//,
        /^\.ci\//,
        /^bench\//,
        /\.test\.[jt]s$/,
        /(^|\/)wled-fixtures\//,
        /(?<!\.d)\.ts$/,
        /^tsconfig/,
        /^\.mocharc/,
      ];
      const shipped = packedFiles.filter((file) => forbidden.some((pattern) => pattern.test(file)));
      assert.deepEqual(shipped, []);
    });
  });
});

let registrationCache: Registration[] | undefined;

/** Parses every node's editor file the way the scorecard does and collects its registerType calls. */
function readRegistrations(): Registration[] {
  if (registrationCache) {
    return registrationCache;
  }

  const registrations: Registration[] = [];
  for (const [, file] of nodeFiles) {
    const htmlFile = file.replace(/\.js$/, '.html');
    const html = fs.readFileSync(path.join(repoRoot, htmlFile), 'utf8');
    const scripts = javascriptBlocks(html);
    assert.ok(scripts.length > 0, `${htmlFile} has no <script type="text/javascript"> block`);

    for (const script of scripts) {
      let program: acorn.Program;
      try {
        program = acorn.parse(script, { ecmaVersion: 'latest', sourceType: 'script' });
      } catch (error) {
        assert.fail(`${htmlFile}: a script block does not parse: ${(error as Error).message}`);
      }
      registrations.push(...findRegistrations(program, htmlFile));
    }
  }

  registrationCache = registrations;
  return registrations;
}

/** Returns the contents of the `<script type="text/javascript">` blocks; the scorecard ignores other types. */
function javascriptBlocks(html: string): string[] {
  const blocks: string[] = [];
  for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    const type = /\btype\s*=\s*(["'])([^"']*)\1/i.exec(match[1]);
    if (type && type[2].trim().toLowerCase() === 'text/javascript') {
      blocks.push(match[2]);
    }
  }
  return blocks;
}

function findRegistrations(program: acorn.Program, file: string): Registration[] {
  const registrations: Registration[] = [];
  walk.simple(program, {
    CallExpression(call) {
      const callee = call.callee;
      if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier') {
        return;
      }
      if (callee.property.name !== 'registerType') {
        return;
      }

      const [typeArgument, definition] = call.arguments;
      assert.ok(
        typeArgument?.type === 'Literal' && typeof typeArgument.value === 'string',
        `${file}: registerType must get the type as a string literal`,
      );
      assert.ok(
        definition?.type === 'ObjectExpression',
        `${file}: registerType must get the definition as an inline object`,
      );

      const properties = new Map<string, acorn.Node>();
      for (const property of definition.properties) {
        if (property.type === 'Property') {
          const key = property.key;
          const name =
            key.type === 'Identifier'
              ? key.name
              : key.type === 'Literal'
                ? String(key.value)
                : undefined;
          if (name !== undefined) {
            properties.set(name, property.value);
          }
        }
      }
      registrations.push({ file, type: typeArgument.value as string, properties });
    },
  });
  return registrations;
}

function literalValue(node: acorn.Node | undefined): unknown {
  return node?.type === 'Literal' ? (node as acorn.Literal).value : undefined;
}

/** Tests for a config node the way the scorecard does: only a literal category 'config' counts. */
function isConfigNode(properties: Map<string, acorn.Node>): boolean {
  return literalValue(properties.get('category')) === 'config';
}

interface LockedPackage {
  path: string;
  name: string;
  version: string;
}

/** Lists the packages that `npm ci --omit=dev` would install, from the lockfile's packages section. */
function runtimePackages(
  packages: Record<string, { version?: string; dev?: boolean }>,
): LockedPackage[] {
  const entries: LockedPackage[] = [];
  for (const [location, entry] of Object.entries(packages)) {
    if (location === '' || entry.dev === true || entry.version === undefined) {
      continue;
    }
    const name = location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
    entries.push({ path: location, name, version: entry.version });
  }
  return entries;
}

function listFiles(directory: string): string[] {
  if (!fs.existsSync(directory)) {
    return [];
  }
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const fullPath = path.join(directory, entry.name);
    return entry.isDirectory() ? listFiles(fullPath) : [fullPath];
  });
}
