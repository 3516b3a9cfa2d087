// Removes the dev-only packages from node_modules after a full `npm ci`, except the ones the image
// needs at run time: the services run TypeScript through @swc-node/register, which package.json lists
// under devDependencies because everything else that compiles or tests code lives there too.
//
// `npm ci --omit=dev` cannot keep a chosen dev package, and `npm prune` cannot either, so this works from
// package-lock.json itself: a package flagged `dev` is reachable only through devDependencies; the ones
// named on the command line and everything they need (resolved the way Node looks up node_modules) stay.
//
// Usage (from the repository root): node infra/docker/prune-dev-dependencies.cjs <package>...
const { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync } = require('node:fs');
const { join } = require('node:path');

const keepNames = process.argv.slice(2);
if (keepNames.length === 0) throw new Error('name the dev packages to keep, e.g. @swc-node/register');

const { packages } = JSON.parse(readFileSync('package-lock.json', 'utf8'));

/** The lockfile key a `require(name)` from the package at `from` resolves to ('' is the root). */
function resolve(from, name) {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent === -1 ? '' : base.slice(0, parent);
  }
}

const keep = new Set();
const pending = keepNames.map((name) => {
  const key = resolve('', name);
  if (!key) throw new Error(`${name} is not in package-lock.json`);
  return key;
});
while (pending.length > 0) {
  const key = pending.pop();
  if (keep.has(key)) continue;
  keep.add(key);
  const entry = packages[key];
  const optionalPeers = entry.peerDependenciesMeta ?? {};
  const wanted = [
    ...Object.keys(entry.dependencies ?? {}),
    ...Object.keys(entry.optionalDependencies ?? {}),
    ...Object.keys(entry.peerDependencies ?? {}).filter((peer) => !optionalPeers[peer]?.optional),
  ];
  for (const name of wanted) {
    const resolved = resolve(key, name);
    // Optional dependencies for other platforms are in the lockfile but were never installed.
    if (resolved) pending.push(resolved);
  }
}

let removed = 0;
for (const [key, entry] of Object.entries(packages)) {
  if (!key || !entry.dev || keep.has(key) || !existsSync(key)) continue;
  rmSync(key, { recursive: true, force: true });
  removed += 1;
}

// Links in node_modules/.bin whose package is gone, and scope folders left empty.
const bin = join('node_modules', '.bin');
if (existsSync(bin)) {
  for (const name of readdirSync(bin)) {
    const link = join(bin, name);
    try {
      statSync(link);
    } catch {
      if (lstatSync(link).isSymbolicLink()) rmSync(link);
    }
  }
}
for (const name of readdirSync('node_modules')) {
  const scope = join('node_modules', name);
  if (name.startsWith('@') && readdirSync(scope).length === 0) rmSync(scope, { recursive: true });
}

const keptDev = [...keep].filter((key) => packages[key].dev && existsSync(key)).length;
process.stdout.write(`removed ${removed} dev-only packages; kept ${keptDev} for ${keepNames.join(', ')}\n`);
