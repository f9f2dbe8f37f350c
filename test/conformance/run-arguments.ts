/** What `bun run test:conformance [filter] [--members N]` was asked for. */
export interface RunArguments {
  /** Substring of a file name or test description; undefined runs everything. */
  filter?: string;
  /** Replica set members of the emulator; undefined leaves the emulator's default (one). */
  members?: number;
}

/** Parses argv (after the script) and CONFORMANCE_MEMBERS; the flag wins over the variable. */
export function parseRunArguments(argv: readonly string[], membersVariable: string | undefined): RunArguments {
  const result: RunArguments = {};
  let members = membersVariable === undefined || membersVariable === "" ? undefined : membersVariable;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] as string;
    if (argument === "--members") {
      members = argv[++index];
      if (members === undefined) throw new Error("--members needs a number");
    } else if (argument.startsWith("--members=")) {
      members = argument.slice("--members=".length);
    } else if (argument.startsWith("--")) {
      throw new Error(`unknown option ${argument} (usage: [filter] [--members N])`);
    } else if (result.filter === undefined) {
      result.filter = argument;
    } else {
      throw new Error(`one filter at most, got "${result.filter}" and "${argument}"`);
    }
  }
  if (members !== undefined) {
    const count = Number(members);
    if (!Number.isInteger(count) || count < 1) throw new Error(`--members must be a positive integer, got "${members}"`);
    result.members = count;
  }
  return result;
}
