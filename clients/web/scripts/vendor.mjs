// Writes vendor/: the libraries the web client loads, as ES modules the browser imports
// through the page's import map. The app's own modules are served as written; only the
// npm packages pass through esbuild, which keeps of each package just the names the app and
// the SDK import, minifies, and puts code shared by several entry points in shared chunks
// (so that, say, @bufbuild/protobuf and @bufbuild/protobuf/wire share one copy of the
// runtime). vendor/ is committed: the server embeds it, and building the server needs no
// Node.js. `--check` compares instead of writing (CI), so vendor/ is always what the
// pinned package-lock.json gives.
// Usage: node scripts/vendor.mjs [--check]
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sdk = resolve(web, "../typescript");
const modules = join(web, "node_modules");
const check = process.argv.includes("--check");

/** Every .js file under a directory. @param {string} dir */
function jsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".js"))
    .map((e) => join(e.parentPath, e.name));
}

// `import { a, b as c } from "x"`, `export { a } from "x"`, `import * as n from "x"`,
// `import d from "x"`, `import "x"`.
const STATIC = /(?:^|[;\s}])(import|export)\s*([\w*{}\s,$]*?)\s*from\s*["']([^"']+)["']|(?:^|[;\s])import\s*["']([^"']+)["']/g;

/** @type {Map<string, Set<string>>} bare specifier -> names imported ("*" for all) */
const wanted = new Map();
const roots = [...jsFiles(join(web, "app")), ...jsFiles(join(sdk, "src")), ...jsFiles(join(sdk, "gen"))];
for (const file of roots) {
  const source = readFileSync(file, "utf8");
  for (const m of source.matchAll(STATIC)) {
    const spec = m[3] ?? m[4];
    if (spec.startsWith(".") || spec.startsWith("@switchboard/")) continue;
    const names = wanted.get(spec) ?? new Set();
    wanted.set(spec, names);
    const clause = (m[2] ?? "").trim();
    if (!clause || clause.startsWith("*") || !clause.includes("{")) {
      // A namespace, a default import or a bare import: the whole module.
      names.add("*");
      continue;
    }
    const inner = clause.slice(clause.indexOf("{") + 1, clause.lastIndexOf("}"));
    for (const part of inner.split(",")) {
      const name = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/)[0].trim();
      if (name) names.add(name);
    }
    if (clause.replace(/\{[^}]*\}/, "").replace(/[,\s]/g, "")) names.add("default");
  }
}

/** The file name of a specifier's entry: `@bufbuild/protobuf/wire` -> `bufbuild__protobuf__wire`. @param {string} spec */
const entryName = (spec) => spec.replace(/^@/, "").replaceAll("/", "__");

const entries = join(modules, ".switchboard-vendor");
rmSync(entries, { recursive: true, force: true });
mkdirSync(entries, { recursive: true });
/** @type {Record<string, string>} */
const entryPoints = {};
const specs = [...wanted.keys()].sort();
for (const spec of specs) {
  const names = [...(wanted.get(spec) ?? [])].sort();
  const body = names.includes("*")
    ? `export * from ${JSON.stringify(spec)};\n`
    : `export { ${names.join(", ")} } from ${JSON.stringify(spec)};\n`;
  const path = join(entries, `${entryName(spec)}.js`);
  writeFileSync(path, body);
  entryPoints[entryName(spec)] = path;
}

const result = await build({
  entryPoints,
  bundle: true,
  splitting: true,
  format: "esm",
  minify: true,
  target: "es2022",
  platform: "browser",
  outdir: join(web, "vendor"),
  entryNames: "[name]",
  chunkNames: "chunk-[hash]",
  legalComments: "eof",
  write: false,
  logLevel: "warning",
  absWorkingDir: web,
});

const out = new Map(); // vendor-relative path -> contents
for (const f of result.outputFiles) out.set(relative(join(web, "vendor"), f.path).split("\\").join("/"), f.text);

// The packages' licences, since minified files carry only their legal comments.
const packages = new Set();
for (const spec of specs) packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
let licences = "The libraries in this directory, as copied from npm by scripts/vendor.mjs.\n";
for (const name of [...packages].sort()) {
  const dir = join(modules, name);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  licences += `\n== ${name} ${pkg.version} (${pkg.license}) ==\n\n${file ? readFileSync(join(dir, file), "utf8").trim() : pkg.license}\n`;
}
out.set("LICENSES.txt", licences);

/** @type {Record<string, string>} */
const imports = {};
for (const spec of specs) imports[spec] = `vendor/${entryName(spec)}.js`;
imports["@switchboard/sdk"] = "sdk/src/index.js";
imports["@switchboard/sdk/gen/"] = "sdk/gen/switchboard/v1/";
const sorted = Object.fromEntries(Object.entries(imports).sort(([a], [b]) => a.localeCompare(b)));
out.set("importmap.json", JSON.stringify({ imports: sorted }, null, 2) + "\n");

const vendor = join(web, "vendor");
if (check) {
  const have = existsSync(vendor) ? readdirSync(vendor, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(vendor, join(e.parentPath, e.name)).split("\\").join("/")) : [];
  const stale = [];
  for (const [p, text] of out) {
    const f = join(vendor, p);
    if (!existsSync(f) || readFileSync(f, "utf8") !== text) stale.push(p);
  }
  for (const p of have) if (!out.has(p)) stale.push(p);
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
  const size = [...out.values()].reduce((n, t) => n + t.length, 0);
  console.log(`vendor/: ${out.size} files, ${(size / 1024).toFixed(1)} KiB`);
}
