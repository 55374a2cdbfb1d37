// Copies the libraries the web client loads from node_modules into vendor/ (committed: the
// server embeds it, and building the server needs no Node.js), with the import map that
// names them. Only the modules reachable from the client's and the SDK's imports are
// copied, source-map comments dropped. `--check` compares instead of writing (CI).
// Usage: node scripts/vendor.mjs [--check]
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, posix, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sdk = resolve(web, "../typescript");
const modules = join(web, "node_modules");
const check = process.argv.includes("--check");

/** Every .js file under a directory. */
function jsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".js"))
    .map((e) => join(e.parentPath, e.name));
}

const IMPORT = /(?:^|[;\s}])(?:import|export)\s*(?:[\w*{}\s,$]*?\s*from\s*)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
/** The module specifiers a file imports. */
function specifiers(source) {
  return [...source.matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
}

/** A package's file for a bare specifier, through its `exports` (browser, then import). */
function resolveBare(spec) {
  const parts = spec.split("/");
  const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  const sub = "." + spec.slice(name.length);
  const pkgDir = join(modules, name);
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  let target = pkg.exports?.[sub];
  const pick = (t) => {
    if (typeof t === "string") return t;
    if (!t || typeof t !== "object") return undefined;
    for (const k of ["browser", "module", "import", "default"]) {
      const v = pick(t[k]);
      if (v && v.endsWith(".js")) return v;
    }
    return undefined;
  };
  const file = pick(target) ?? (sub === "." ? pkg.module : undefined);
  if (!file) throw new Error(`no ES module for ${spec} in ${name}`);
  return { name, file: join(pkgDir, file) };
}

const out = new Map(); // vendor-relative path -> contents
const imports = {}; // bare specifier -> vendor-relative path
const pending = [];
const seen = new Set();

function visit(from, spec) {
  if (spec.startsWith(".")) {
    if (from.startsWith(modules)) pending.push(resolve(dirname(from), spec));
    return;
  }
  if (imports[spec] || spec.startsWith("@switchboard/")) return;
  const { file } = resolveBare(spec);
  imports[spec] = "vendor/" + relative(modules, file).split("\\").join("/");
  pending.push(file);
}

const roots = [...jsFiles(join(web, "app")), ...jsFiles(join(sdk, "src")), ...jsFiles(join(sdk, "gen"))];
for (const f of roots) for (const s of specifiers(readFileSync(f, "utf8"))) visit(f, s);
while (pending.length) {
  const f = pending.pop();
  if (seen.has(f)) continue;
  seen.add(f);
  const source = readFileSync(f, "utf8").replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, "\n");
  out.set(relative(modules, f).split("\\").join("/"), source);
  for (const s of specifiers(source)) visit(f, s);
}

imports["@switchboard/sdk"] = "sdk/src/index.js";
imports["@switchboard/sdk/gen/"] = "sdk/gen/switchboard/v1/";
const sorted = Object.fromEntries(Object.entries(imports).sort(([a], [b]) => a.localeCompare(b)));
out.set("importmap.json", JSON.stringify({ imports: sorted }, null, 2) + "\n");

const vendor = join(web, "vendor");
if (check) {
  const have = existsSync(vendor) ? jsFiles(vendor).concat(join(vendor, "importmap.json")) : [];
  const stale = [];
  for (const [p, text] of out) {
    const f = join(vendor, p);
    if (!existsSync(f) || readFileSync(f, "utf8") !== text) stale.push(p);
  }
  for (const f of have) if (!out.has(posix.normalize(relative(vendor, f).split("\\").join("/")))) stale.push(relative(vendor, f));
  if (stale.length) {
    console.error(`vendor/ is not what node_modules gives (${stale.slice(0, 5).join(", ")}${stale.length > 5 ? ", ..." : ""}): run npm run vendor`);
    process.exit(1);
  }
} else {
  rmSync(vendor, { recursive: true, force: true });
  for (const [p, text] of out) {
    mkdirSync(dirname(join(vendor, p)), { recursive: true });
    writeFileSync(join(vendor, p), text);
  }
  console.log(`vendor/: ${out.size} files`);
}
