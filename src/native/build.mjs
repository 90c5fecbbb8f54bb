// Builds ctxdiff's optional native helpers (fsnative.c, see src/context/native.ts) with node-gyp into
// dist/native/fsnative.node: `npm run build:native`, run after `npm ci` in a checkout (postprepare) and before
// `npm pack` (prepack), so that the package ships the built addon and installs without a script. Linux only.
// It does not fail (without the helpers ctxdiff does the same work through Node's fs, slower) unless
// CTXDIFF_NATIVE_REQUIRED=1 is set, as the release workflow does: a package must not ship without them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const target = path.join(here, '../../dist/native/fsnative.node');
const required = process.env.CTXDIFF_NATIVE_REQUIRED === '1';
const skip = (why) => {
  console.error(`ctxdiff: native helpers not built: ${why}${required ? ' (CTXDIFF_NATIVE_REQUIRED=1)' : '; ctxdiff works without them, slower'}`);
  process.exit(required ? 1 : 0);
};
fs.rmSync(target, { force: true });
if (process.platform !== 'linux') skip(`they are built for Linux only (this is ${process.platform})`);
if (process.env.CTXDIFF_NATIVE === '0') skip('CTXDIFF_NATIVE=0 is set');
// npm says where its own node-gyp is; else the one bundled with the npm next to this Node.
const gyp =
  process.env.npm_config_node_gyp ??
  [path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')].find((p) => fs.existsSync(p));
if (!gyp) skip('node-gyp not found');
const run = spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
if (run.status !== 0) {
  fs.rmSync(path.join(here, 'build'), { recursive: true, force: true });
  const err = `${run.stderr ?? ''}`.split('\n').find((l) => /error/i.test(l)) ?? run.error?.message ?? `node-gyp exited with ${run.status}`;
  skip(err.trim());
}

fs.mkdirSync(path.dirname(target), { recursive: true });
fs.copyFileSync(path.join(here, 'build/Release/fsnative.node'), target);
fs.rmSync(path.join(here, 'build'), { recursive: true, force: true });
