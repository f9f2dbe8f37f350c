/** What a server child process reported as a bug (its log events, or a stack trace on stderr); empty when none. */
export function unhandledInChild(logs: readonly { event?: string }[], stderr: string): string[] {
  const events = logs.filter((line) => line.event === "unhandled-rejection" || line.event === "uncaught-exception");
  const stacks = /^\s+at .+:\d+:\d+\)?$/m.test(stderr) ? [`a stack trace on stderr:\n${stderr}`] : [];
  return [...events.map((line) => JSON.stringify(line)), ...stacks];
}
