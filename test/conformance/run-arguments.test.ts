// Defends: `bun run test:conformance [filter] --members N` reads exactly what it is given, and refuses the rest.
import { expect, test } from "bun:test";
import { parseRunArguments } from "./run-arguments";

test("a filter, and no member count unless asked for (the emulator's one member)", () => {
  expect(parseRunArguments([], undefined)).toEqual({});
  expect(parseRunArguments(["resume"], "")).toEqual({ filter: "resume" });
});

test("--members N, --members=N, or CONFORMANCE_MEMBERS; the flag wins", () => {
  expect(parseRunArguments(["--members", "3", "crud"], undefined)).toEqual({ filter: "crud", members: 3 });
  expect(parseRunArguments(["--members=3"], undefined)).toEqual({ members: 3 });
  expect(parseRunArguments([], "3")).toEqual({ members: 3 });
  expect(parseRunArguments(["--members", "1"], "3")).toEqual({ members: 1 });
});

test("refuses a bad count, an unknown option and a second filter", () => {
  expect(() => parseRunArguments(["--members", "0"], undefined)).toThrow("positive integer");
  expect(() => parseRunArguments(["--members"], undefined)).toThrow("needs a number");
  expect(() => parseRunArguments([], "three")).toThrow("positive integer");
  expect(() => parseRunArguments(["--member", "3"], undefined)).toThrow("unknown option --member");
  expect(() => parseRunArguments(["a", "b"], undefined)).toThrow("one filter at most");
});
