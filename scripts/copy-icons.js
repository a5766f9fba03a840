// Copies the source icons beside the node files: Node-RED only looks for an icons/ folder
// in the directory of each registered node file, so a top-level icons/ would stay invisible.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const from = path.join(root, 'icons');
const to = path.join(root, 'nodes', 'icons');

fs.mkdirSync(to, { recursive: true });
for (const file of fs.readdirSync(from)) {
  fs.copyFileSync(path.join(from, file), path.join(to, file));
}
