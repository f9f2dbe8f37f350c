// A real WebSocket client in its own process, so a test can freeze it (SIGSTOP) the way a
// stuck browser tab stops reading. It reports on stdout: one line when open, one when closed.
const url = Bun.argv[2]!;
const positions: string[] = [];
const socket = new WebSocket(url);
socket.addEventListener("open", () => console.log(JSON.stringify({ event: "open" })));
socket.addEventListener("message", (event) => {
  const frame = JSON.parse(String(event.data)) as { type: string; position?: string };
  if (frame.position) positions.push(frame.position);
});
socket.addEventListener("close", (event) => {
  console.log(JSON.stringify({ event: "close", code: event.code, reason: event.reason, positions }));
  process.exit(0);
});
