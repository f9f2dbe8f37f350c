// `bun run test:replica-set [bun test arguments]`: the whole suite (or the files named) against a
// three-member emulated replica set, through MONGODB_URI as for a real one. Exits with bun test's code.
import { startEmulator } from "mongo-emulator";

const emulator = await startEmulator({ members: 3 });
console.log(`three-member replica set (emulated): ${emulator.uri}`);
const tests = Bun.spawn(["bun", "test", ...process.argv.slice(2)], {
  cwd: new URL("../", import.meta.url).pathname,
  env: { ...process.env, MONGODB_URI: emulator.uri },
  stdio: ["inherit", "inherit", "inherit"],
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => tests.kill(signal));
const code = await tests.exited;
await emulator.close();
process.exit(code);
