import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { EJSON } from "bson";
import type { Document } from "./bson-values";
import type { ExpectedLogMessagesForClient } from "./log-messages";

/** The spec folder: MONGODB_SPEC_DIR when set, else next to the repository (`<repo>/../shared/mongodb-spec`). */
export const SPEC_DIR = process.env.MONGODB_SPEC_DIR
  ? resolve(process.env.MONGODB_SPEC_DIR)
  : resolve(import.meta.dir, "..", "..", "..", "shared", "mongodb-spec");

/** Highest schema version this runner accepts (same major version only). */
export const SUPPORTED_SCHEMA_VERSION = "1.26";

export interface RunOnRequirement {
  minServerVersion?: string;
  maxServerVersion?: string;
  topologies?: string[];
  serverless?: "require" | "forbid" | "allow";
  serverParameters?: Document;
  auth?: boolean;
  authMechanism?: string;
  csfle?: boolean;
}

export interface Operation {
  name: string;
  object: string;
  arguments?: Document;
  expectResult?: unknown;
  expectError?: ExpectedError;
  saveResultAsEntity?: string;
  ignoreResultAndError?: boolean;
}

export interface ExpectedError {
  isError?: boolean;
  isClientError?: boolean;
  isTimeoutError?: boolean;
  errorContains?: string;
  errorCode?: number;
  errorCodeName?: string;
  errorLabelsContain?: string[];
  errorLabelsOmit?: string[];
  errorResponse?: Document;
  expectResult?: unknown;
  writeErrors?: Document;
  writeConcernErrors?: Document[];
}

export interface ExpectedEventsForClient {
  client: string;
  eventType?: "command" | "cmap" | "sdam";
  events: Document[];
  ignoreExtraEvents?: boolean;
}

export interface CollectionData {
  collectionName: string;
  databaseName: string;
  createOptions?: Document;
  documents: Document[];
}

export interface TestCase {
  description: string;
  runOnRequirements?: RunOnRequirement[];
  skipReason?: string;
  operations: Operation[];
  expectEvents?: ExpectedEventsForClient[];
  outcome?: CollectionData[];
  expectLogMessages?: ExpectedLogMessagesForClient[];
  /** Assertions this runner cannot make yet; a test that has them fails rather than passing unchecked. */
  expectTracingMessages?: unknown;
}

export interface SpecFile {
  /** Path relative to SPEC_DIR, e.g. `crud/find.json`. */
  name: string;
  description: string;
  schemaVersion: string;
  runOnRequirements?: RunOnRequirement[];
  createEntities?: Document[];
  initialData?: CollectionData[];
  tests: TestCase[];
}

/** Raised when the spec folder is absent or holds no test file: the run cannot prove anything without it. */
export class SpecFolderMissingError extends Error {
  constructor(dir: string, what = "not found") {
    super(
      `MongoDB spec tests ${what} at ${dir}.\n` +
        "Expected unified-format JSON files in subfolders (e.g. change-streams/*.json, crud/*.json) of ../shared/mongodb-spec\n" +
        "relative to the repository root, or of the folder MONGODB_SPEC_DIR names.",
    );
  }
}

/** A JSON file the runner found but cannot run, with the reason; reported, never skipped silently. */
export type UnrunnableFile = { name: string; reason: string };

/**
 * Reads every JSON file in every subfolder of `dir` (at any depth), parsed as relaxed
 * Extended JSON; adding a suite needs no code change. Files directly in `dir` (such as the
 * format's own JSON schema) are not tests.
 */
export function loadSpecFiles(dir: string = SPEC_DIR): { files: SpecFile[]; unrunnable: UnrunnableFile[] } {
  if (!existsSync(dir)) throw new SpecFolderMissingError(dir);
  const names = (readdirSync(dir, { recursive: true }) as string[])
    .filter((name) => name.endsWith(".json") && name.includes(sep))
    .map((name) => name.split(sep).join("/"))
    .sort();
  if (names.length === 0) throw new SpecFolderMissingError(dir, "(no JSON file in any subfolder)");
  const files: SpecFile[] = [];
  const unrunnable: UnrunnableFile[] = [];
  for (const name of names) {
    try {
      files.push(parseSpecFile(readFileSync(join(dir, name), "utf8"), name));
    } catch (error) {
      unrunnable.push({ name, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return { files, unrunnable };
}

/**
 * Relaxed Extended JSON gives operations plain JS numbers (the driver encodes them as
 * int32/double, as other drivers do). initialData and outcome are read canonically instead,
 * so inserted and expected collection contents keep exact BSON types (Int32, Long, Double).
 */
export function parseSpecFile(text: string, name: string): SpecFile {
  const relaxed = EJSON.parse(text, { relaxed: true }) as Omit<SpecFile, "name">;
  if (typeof relaxed !== "object" || relaxed === null || typeof relaxed.schemaVersion !== "string" || !Array.isArray(relaxed.tests)) {
    throw new Error("not a unified-format test file (it needs schemaVersion and tests)");
  }
  const canonical = EJSON.parse(text, { relaxed: false }) as Omit<SpecFile, "name">;
  const tests = relaxed.tests.map((test, index) => {
    const outcome = canonical.tests[index]?.outcome;
    return outcome === undefined ? test : { ...test, outcome };
  });
  const initialData = canonical.initialData;
  return { ...relaxed, ...(initialData === undefined ? {} : { initialData }), tests, name };
}

/** Whether a file's schemaVersion is within the supported major.minor (patch is ignored). */
export function isSchemaSupported(schemaVersion: string): boolean {
  const [major, minor = 0] = schemaVersion.split(".").map(Number);
  const [supportedMajor, supportedMinor = 0] = SUPPORTED_SCHEMA_VERSION.split(".").map(Number);
  return major === supportedMajor && minor <= supportedMinor;
}
