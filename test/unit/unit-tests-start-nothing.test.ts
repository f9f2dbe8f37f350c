// Defends: the quick loop stays quick: a test in test/unit starts no server, no emulator, no child process and
// opens no socket (those belong in the end-to-end tests in test/*.test.ts, which have the helpers for them).
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const unitDir = new URL("./", import.meta.url).pathname;
/** Imports that start processes, servers or sockets, or the end-to-end helpers that do (waitUntil starts nothing). */
const FORBIDDEN_IMPORT =
  /^(node:)?(child_process|net|tls|http|https|http2|dgram|worker_threads)$|^mongo-emulator|\/support\/(?!wait-until\.ts$)/;
/** Bun's own ways to do the same. */
const FORBIDDEN_CALL = /\bBun\.(spawn|spawnSync|serve|listen|connect|udpSocket)\b|\bnew WebSocket\b|\bfetch\(/;

const transpiler = new Bun.Transpiler({ loader: "ts" });
for (const file of readdirSync(unitDir).filter((name) => name.endsWith(".ts") && name !== "unit-tests-start-nothing.test.ts")) {
  test(`${file} starts no process, server or socket`, async () => {
    const source = await Bun.file(join(unitDir, file)).text();
    const imports = transpiler.scanImports(source).map((found) => found.path);
    expect(imports.filter((path) => FORBIDDEN_IMPORT.test(path))).toEqual([]);
    expect(source.match(FORBIDDEN_CALL)?.[0]).toBeUndefined();
  });
}
