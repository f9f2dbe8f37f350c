import { NOT_SUPPORTED } from "./failures";
import type { TestResult, TestStatus } from "./run-test";

const MARKS: Partial<Record<TestStatus, string>> = { passed: "✓", failed: "✗" };

/** One line per run test; failures get their reason indented below. */
export function printTestLine(result: TestResult): void {
  const mark = MARKS[result.status];
  if (!mark) return;
  console.log(`${mark} ${result.file} › ${result.description}`);
  if (result.status === "failed" && result.reason) console.log(indent(result.reason));
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `    ${line.trimStart()}`)
    .join("\n");
}

const SECTIONS: [TestStatus, string][] = [
  ["not-applicable", "Not applicable (runOnRequirements unmet)"],
  ["skipped", "Skipped by the test file (skipReason)"],
  ["excluded", "Excluded by this runner (excluded-tests.ts)"],
];

/** Lists tests that did not run, then ends with exactly `N passed, N failed`. */
export function printSummary(results: readonly TestResult[]): void {
  for (const [status, title] of SECTIONS) {
    const matching = results.filter((result) => result.status === status);
    if (matching.length === 0) continue;
    console.log(`\n${title}: ${matching.length}`);
    for (const result of matching) console.log(`  - ${result.file} › ${result.description}: ${result.reason ?? ""}`);
  }
  const count = (status: TestStatus) => results.filter((result) => result.status === status).length;
  console.log(`\n${count("not-applicable")} not applicable, ${count("skipped")} skipped, ${count("excluded")} excluded`);
  // Runner gaps are told apart from differences of the server under test.
  const runnerGaps = results.filter((result) => result.status === "failed" && result.reason?.includes(NOT_SUPPORTED)).length;
  if (runnerGaps > 0)
    console.log(`${runnerGaps} of the failures ${runnerGaps === 1 ? "is a feature" : "are features"} the runner lacks (${NOT_SUPPORTED})`);
  console.log(`${count("passed")} passed, ${count("failed")} failed`);
}
