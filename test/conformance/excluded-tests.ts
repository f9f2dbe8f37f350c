/**
 * Applicable tests deliberately left out, each with its reason. They are reported as
 * "excluded" in the output, never skipped silently. Keep this list empty unless the
 * runner truly cannot express a test; a server (or emulator) bug is a failure, not an exclusion.
 */
export const EXCLUDED_TESTS: readonly { file: string; description: string; reason: string }[] = [];

/** The exclusion reason for a test, if it is listed. */
export function findExclusion(file: string, description: string): string | undefined {
  return EXCLUDED_TESTS.find((entry) => entry.file === file && entry.description === description)?.reason;
}
