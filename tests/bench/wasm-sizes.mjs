// Where the bytes of a wasm module go: code size per crate (from the name section)
// and per section, plus the largest functions. For the app shell budget.
// Usage: node tests/bench/wasm-sizes.mjs module.wasm [top]
// Needs a module with its name section (cargo's output before wasm-bindgen/wasm-opt).
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';

const [path, topArg] = process.argv.slice(2);
if (!path) {
  console.error('usage: node wasm-sizes.mjs module.wasm [top]');
  process.exit(2);
}
const buf = readFileSync(path);
let pos = 8;
const u32 = () => {
  let result = 0, shift = 0, b;
  do {
    b = buf[pos++];
    result |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  return result >>> 0;
};
const str = () => {
  const n = u32();
  const s = buf.toString('utf8', pos, pos + n);
  pos += n;
  return s;
};

const sections = [];
let importedFuncs = 0;
let bodies = [];
const names = new Map();
while (pos < buf.length) {
  const id = buf[pos++];
  const size = u32();
  const start = pos;
  const end = start + size;
  let label = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount'][id] ?? `id${id}`;
  if (id === 0) {
    const name = str();
    label = `custom:${name}`;
    if (name === 'name') {
      while (pos < end) {
        const sub = buf[pos++];
        const subSize = u32();
        const subEnd = pos + subSize;
        if (sub === 1) {
          const n = u32();
          for (let i = 0; i < n; i++) {
            const idx = u32();
            names.set(idx, str());
          }
        }
        pos = subEnd;
      }
    }
  } else if (id === 2) {
    const n = u32();
    for (let i = 0; i < n; i++) {
      str();
      str();
      const kind = buf[pos++];
      if (kind === 0) { u32(); importedFuncs++; }
      else if (kind === 1) { pos++; const f = u32(); u32(); if (f & 1) u32(); }
      else if (kind === 2) { const f = u32(); u32(); if (f & 1) u32(); }
      else if (kind === 3) { pos += 2; }
    }
  } else if (id === 10) {
    const n = u32();
    for (let i = 0; i < n; i++) {
      const bodySize = u32();
      bodies.push({ index: importedFuncs + i, start: pos, size: bodySize });
      pos += bodySize;
    }
  }
  sections.push({ label, size });
  pos = end;
}

// Crate of a Rust symbol: v0 mangling (_R…: the first crate root `C[s<hash>_]<len><name>`,
// the crate the item or impl is defined in), legacy mangling (_ZN<len><name>...) or
// already demangled.
function crateOf(name) {
  if (!name) return '(unnamed)';
  if (name.startsWith('_R')) {
    const v0 = /C(?:s[0-9A-Za-z]*_)?(\d+)([A-Za-z_][A-Za-z0-9_]*)/.exec(name);
    if (v0) return v0[2].slice(0, Number(v0[1]));
  }
  let m = /^_ZN(\d+)(.*)$/.exec(name);
  if (m) {
    let s = m[2].slice(0, Number(m[1]));
    if (s.startsWith('_$LT$')) {
      const inner = /_\$LT\$(?:(\d+))?([A-Za-z_][A-Za-z0-9_]*)/.exec(s);
      return inner ? `<${inner[2]}>` : s;
    }
    return s;
  }
  m = /^<?([A-Za-z_][A-Za-z0-9_]*)::/.exec(name);
  if (m) return m[1];
  return name.split(/[:.<]/)[0] || name;
}

const byCrate = new Map();
for (const b of bodies) {
  const c = crateOf(names.get(b.index));
  const e = byCrate.get(c) ?? { size: 0, count: 0 };
  e.size += b.size;
  e.count++;
  byCrate.set(c, e);
}
const br = (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
console.log(`${path}: ${buf.length} bytes, brotli ${br(buf)} (with names)`);
console.log('\nsections:');
for (const s of sections.sort((a, b) => b.size - a.size)) console.log(`  ${String(s.size).padStart(9)}  ${s.label}`);
console.log('\ncode by crate (bytes, functions):');
for (const [c, e] of [...byCrate].sort((a, b) => b[1].size - a[1].size).slice(0, 30)) {
  console.log(`  ${String(e.size).padStart(9)} ${String(e.count).padStart(6)}  ${c}`);
}
const top = Number(topArg ?? 25);
console.log(`\nlargest ${top} functions:`);
for (const b of [...bodies].sort((a, b) => b.size - a.size).slice(0, top)) {
  console.log(`  ${String(b.size).padStart(9)}  ${(names.get(b.index) ?? '?').slice(0, 150)}`);
}
