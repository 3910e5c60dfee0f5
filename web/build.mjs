// Builds the portal into dalserver/web/static (committed, so that dalserver installs without
// Node): our code bundled by esbuild with CodeMirror, Aladin Lite copied unmodified beside it
// with its licence, and build.json recording the hash of every input and output.
//
//   npm ci && npm run build     rebuild after changing web/src or the dependencies
//   npm ci && npm run check     rebuild in a temporary directory; fail if it differs from what is committed
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..");
const committed = join(repo, "dalserver", "web", "static");
const check = process.argv.includes("--check");
const out = check ? mkdtempSync(join(tmpdir(), "portal-")) : committed;

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

function files(dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    })
    .sort();
}

function inputs() {
  const list = [...files(join(here, "src")), join(here, "package.json"), join(here, "package-lock.json"), join(here, "build.mjs")];
  return Object.fromEntries(list.map((p) => [relative(repo, p), sha256(readFileSync(p))]));
}

if (!check) rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "vendor", "aladin-lite"), { recursive: true });

const result = await build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  format: "esm",
  target: ["es2022", "chrome110", "firefox115"],
  minify: true,
  sourcemap: false,
  legalComments: "none",
  metafile: true,
  write: false,
  logLevel: "warning",
  charset: "utf8",
});
const js = result.outputFiles[0].contents;
writeFileSync(join(out, "portal.js"), js);
const css = readFileSync(join(here, "src", "portal.css"));
writeFileSync(join(out, "portal.css"), css);

// The licences of the npm packages bundled into portal.js (all MIT), in one file.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (match) packages.add(match[1]);
}
const notices = [...packages].sort().map((name) => {
  const dir = join(here, "node_modules", name);
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const licence = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  const text = licence ? readFileSync(join(dir, licence), "utf8").trim() : `License: ${meta.license}`;
  return `${name} ${meta.version} (${meta.license})\n\n${text}\n`;
});
writeFileSync(
  join(out, "portal.js.LICENSES.txt"),
  `portal.js bundles our code (BSD-3-Clause, see dalserver's LICENSE) with these packages:\n\n${notices.join("\n" + "-".repeat(72) + "\n\n")}`,
);

// Aladin Lite (GPL-3): served as its package ships it, with its licence files, never bundled.
const aladin = join(here, "node_modules", "aladin-lite");
for (const name of ["dist/aladin.js", "package.json", "LICENSE", "COPYING", "COPYING.LESSER", "README.md"]) {
  if (existsSync(join(aladin, name))) copyFileSync(join(aladin, name), join(out, "vendor", "aladin-lite", name.replace("dist/", "")));
}

const short = (bytes) => sha256(bytes).slice(0, 16);
const page = readFileSync(join(here, "src", "index.html"), "utf8").replace("%JS_HASH%", short(js)).replace("%CSS_HASH%", short(css));
writeFileSync(join(out, "index.html"), page);

const outputs = Object.fromEntries(
  files(out)
    .filter((p) => !p.endsWith("build.json"))
    .map((p) => [relative(out, p), sha256(readFileSync(p))]),
);
const manifest = { note: "written by web/build.mjs; tests/web/test_bundle.py checks it", esbuild: result.metafile ? (await import("esbuild")).version : "", inputs: inputs(), outputs };
writeFileSync(join(out, "build.json"), JSON.stringify(manifest, null, 1) + "\n");

if (check) {
  const differ = [];
  for (const path of new Set([...files(out).map((p) => relative(out, p)), ...files(committed).map((p) => relative(committed, p))])) {
    const a = join(out, path);
    const b = join(committed, path);
    if (!existsSync(a) || !existsSync(b) || sha256(readFileSync(a)) !== sha256(readFileSync(b))) differ.push(path);
  }
  rmSync(out, { recursive: true, force: true });
  if (differ.length) {
    console.error(`dalserver/web/static differs from a build of web/: ${differ.join(", ")}; run npm run build in web/`);
    process.exit(1);
  }
  console.log("dalserver/web/static is the build of web/");
} else {
  console.log(`built ${relative(repo, out)}: portal.js ${(js.length / 1024).toFixed(0)} KiB, ${packages.size} bundled packages`);
}
