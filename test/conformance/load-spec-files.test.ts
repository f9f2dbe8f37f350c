// Defends: the conformance runner finds every unified-format file in every subfolder, and reports what it cannot run instead of skipping it.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSpecFiles, SpecFolderMissingError } from "./load-spec-files";

const dir = mkdtempSync(join(tmpdir(), "spec-dir-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const unified = (description: string) =>
  JSON.stringify({ description, schemaVersion: "1.0", tests: [{ description: "t", operations: [] }] });

test("reads every subfolder at any depth, ignores the top level, and lists files it cannot run", () => {
  mkdirSync(join(dir, "crud"));
  mkdirSync(join(dir, "transactions", "unified"), { recursive: true });
  writeFileSync(join(dir, "schema.json"), "{}");
  writeFileSync(join(dir, "crud", "find.json"), unified("find"));
  writeFileSync(join(dir, "transactions", "unified", "commit.json"), unified("commit"));
  writeFileSync(join(dir, "transactions", "legacy.json"), JSON.stringify({ tests: [] }));
  writeFileSync(join(dir, "crud", "broken.json"), "{ not json");

  const { files, unrunnable } = loadSpecFiles(dir);
  expect(files.map((file) => file.name)).toEqual(["crud/find.json", "transactions/unified/commit.json"]);
  expect(unrunnable).toEqual([
    { name: "crud/broken.json", reason: expect.any(String) },
    { name: "transactions/legacy.json", reason: "not a unified-format test file (it needs schemaVersion and tests)" },
  ]);
});

test("a missing folder fails loudly", () => {
  expect(() => loadSpecFiles(join(dir, "nowhere"))).toThrow(SpecFolderMissingError);
});
