// Preloaded for every test file (bunfig.toml): a promise nobody handled or an exception that
// reached the top, in the test process (where startTestFeed runs the server), fails the test
// that was running, instead of scrolling past as noise. One that comes after the last test
// (in an afterAll, or while the process winds down) fails the run.
import { afterAll, afterEach } from "bun:test";

const unhandled: string[] = [];
const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ""}` : String(error));
process.on("unhandledRejection", (error) => unhandled.push(`unhandled rejection: ${describe(error)}`));
process.on("uncaughtException", (error) => unhandled.push(`uncaught exception: ${describe(error)}`));

function failOnUnhandled(): void {
  if (unhandled.length === 0) return;
  const found = unhandled.splice(0);
  throw new Error(`${found.length} unhandled error(s):\n${found.join("\n")}`);
}

afterEach(failOnUnhandled);
afterAll(failOnUnhandled);
process.on("exit", () => {
  if (unhandled.length === 0) return;
  console.error(`${unhandled.length} unhandled error(s) after the last test:\n${unhandled.join("\n")}`);
  process.exitCode = 1;
});
