// Run by `cargo xtask` (crates/xtask/src/build.rs) on the built dist/ directory (its one
// argument): writes the app shell's hashed file names and a content version into the
// service worker, then brotli (quality 11) and gzip copies of the hashed
// app shell files beside them, which `tepat serve` sends as they are (`precompressed_br`):
// its on-the-fly compression is a faster, weaker brotli. Dependency-free (Node built-ins only).
import { createHash } from "node:crypto";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const staging = process.argv[2];
if (!staging) {
  console.error("usage: node public/sw-precache.mjs DIST_DIR");
  process.exit(2);
}
const publicUrl = process.env.TRUNK_PUBLIC_URL || "/";

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const swPath = join(staging, "sw.js");
const files = walk(staging)
  .filter((p) => p !== swPath)
  .map((p) => relative(staging, p).split(sep).join("/"))
  .sort();

const hash = createHash("sha256");
for (const f of files) {
  hash.update(f);
  hash.update(readFileSync(join(staging, f)));
}
const version = hash.digest("hex").slice(0, 16);
const urls = files.map((f) => publicUrl + f);

let sw;
try {
  sw = readFileSync(swPath, "utf8");
} catch (e) {
  console.error(`sw-precache: ${swPath} is missing (copy public/sw.js in app/index.html)`);
  process.exit(1);
}
const before = sw;
sw = sw
  .replace(/const VERSION = "[^"]*";/, `const VERSION = ${JSON.stringify(version)};`)
  .replace(/const PRECACHE = \[[^\]]*\];/, `const PRECACHE = ${JSON.stringify(urls)};`);
if (sw === before || !sw.includes(version)) {
  console.error("sw-precache: the VERSION/PRECACHE placeholders were not found in sw.js");
  process.exit(1);
}
writeFileSync(swPath, sw);
console.log(`sw-precache: ${urls.length} files, version ${version}`);

// Only the content-hashed shell files (Trunk's `filehash`: the css; everything in the
// app's `app-<hash>/` directory: wasm and js), which never change under their name; index.html and sw.js stay as they are on disk, compressed on
// the fly (a deploy, or the update test, rewrites them). Not in PRECACHE: the browser
// asks for the plain name and gets the encoding it accepts.
let raw = 0;
let br = 0;
// Trunk writes the hash without leading zeros: 15 digits or fewer now and then.
const hashed = (f) =>
  /^[^/]*-[0-9a-f]{12,16}(_bg)?\.(wasm|js|css)$/.test(f) || /^app-[0-9a-f]{16}\/[^/]+\.(wasm|js)$/.test(f);
for (const f of files.filter(hashed)) {
  const path = join(staging, f);
  const bytes = readFileSync(path);
  const b = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  writeFileSync(`${path}.br`, b);
  writeFileSync(`${path}.gz`, gzipSync(bytes, { level: 9 }));
  raw += bytes.length;
  br += b.length;
}
console.log(`sw-precache: precompressed ${(raw / 1024).toFixed(1)} KB to ${(br / 1024).toFixed(1)} KB brotli`);
