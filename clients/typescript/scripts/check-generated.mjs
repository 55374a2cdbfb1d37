// Fails when gen/ is not what proto/ generates: regenerates into a temporary directory
// and compares file by file. Run `npm run generate` and commit to fix.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const here = new URL("..", import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), "switchboard-sdk-"));
const template = readFileSync(join(here, "buf.gen.yaml"), "utf8").replace("out: gen", `out: ${out}`);
const config = join(out, "buf.gen.yaml");
writeFileSync(config, template);
try {
  const bin = join(here, "node_modules/.bin");
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  execFileSync(join(bin, "buf"), ["generate", "--template", config], { cwd: here, env, stdio: "inherit" });
  const files = (dir) =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.endsWith(".yaml"))
      .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)))
      .sort();
  const want = files(out);
  const have = files(join(here, "gen"));
  const stale = [...new Set([...want, ...have])].filter((f) => {
    try {
      return readFileSync(join(out, f), "utf8") !== readFileSync(join(here, "gen", f), "utf8");
    } catch {
      return true;
    }
  });
  if (stale.length > 0) {
    console.error(`gen/ does not match proto/ (${stale.join(", ")}): run \`npm run generate\` and commit`);
    process.exit(1);
  }
  console.log(`gen/ matches proto/ (${want.length} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
