// Many real WebSocket clients in one process, so a test can freeze them all (SIGSTOP): readers
// that never read, as a crowd of stuck tabs or an attacker would be. Usage: <url> <count>.
// Reports on stdout: one line once every socket is open, then one line per close.
export {};

const [url, countText = "1"] = Bun.argv.slice(2);
const count = Number(countText);
const WAVE = 100; // open in waves, as a crowd arrives, not as one burst of handshakes

let opened = 0;
for (let first = 0; first < count; first += WAVE) {
  await Promise.all(
    Array.from({ length: Math.min(WAVE, count - first) }, () => {
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      const socket = new WebSocket(url!);
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error("could not connect")), { once: true });
      socket.addEventListener("close", (event) => console.log(JSON.stringify({ event: "close", code: event.code })));
      return promise.then(() => void opened++);
    }),
  );
}
console.log(JSON.stringify({ event: "open", count: opened }));
