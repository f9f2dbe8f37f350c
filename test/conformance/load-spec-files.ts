import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { EJSON } from "bson";
import type { Document } from "./bson-values";

/** The spec folder sits next to the repository: `<repo>/../shared/mongodb-spec`. */
export const SPEC_DIR = resolve(import.meta.dir, "..", "..", "..", "shared", "mongodb-spec");

/** The suites this runner targets, as folders of SPEC_DIR. */
export const SUITES = ["change-streams", "crud"] as const;

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

/** Raised when the spec folder is absent: the run cannot prove anything without it. */
export class SpecFolderMissingError extends Error {
  constructor(dir: string) {
    super(
      `MongoDB spec tests not found at ${dir}.\n` +
        "Expected the unified-format JSON files (change-streams/*.json, crud/*.json) in ../shared/mongodb-spec relative to the repository root.",
    );
  }
}

/** Reads every JSON file of the target suites, parsed as relaxed Extended JSON. */
export function loadSpecFiles(dir: string = SPEC_DIR): SpecFile[] {
  if (!existsSync(dir)) throw new SpecFolderMissingError(dir);
  const files: SpecFile[] = [];
  for (const suite of SUITES) {
    const suiteDir = join(dir, suite);
    if (!existsSync(suiteDir)) throw new SpecFolderMissingError(suiteDir);
    const names = readdirSync(suiteDir).filter((name) => name.endsWith(".json")).sort();
    if (names.length === 0) throw new SpecFolderMissingError(`${suiteDir}/*.json`);
    for (const name of names) {
      files.push(parseSpecFile(readFileSync(join(suiteDir, name), "utf8"), `${suite}/${name}`));
    }
  }
  return files;
}

/**
 * Relaxed Extended JSON gives operations plain JS numbers (the driver encodes them as
 * int32/double, as other drivers do). initialData and outcome are read canonically instead,
 * so inserted and expected collection contents keep exact BSON types (Int32, Long, Double).
 */
export function parseSpecFile(text: string, name: string): SpecFile {
  const relaxed = EJSON.parse(text, { relaxed: true }) as Omit<SpecFile, "name">;
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
