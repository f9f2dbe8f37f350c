// The typed client in a process of its own, so a test can freeze it (SIGSTOP) like a stuck tab.
// Argument: the server URL. Prints JSON lines: its states, resets, and on "view" from stdin, its view.
import { openFeed } from "../../src/client/index.ts";

const feed = openFeed({ url: Bun.argv[2]!, backoff: { baseMs: 20, capMs: 500 } });
const positions: string[] = [];
const say = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
feed.on("state", (state) => say({ event: "state", state, reconnects: feed.reconnects }));
feed.on("reset", () => say({ event: "reset" }));
feed.on("frame", (frame) => {
  if (frame.type !== "reset") positions.push(frame.position);
  say({ event: "frame", id: "post" in frame ? frame.post.id : "id" in frame ? frame.id : undefined });
});
for await (const line of console) {
  if (line.trim() === "view") say({ event: "view", posts: feed.newestFirst(), reconnects: feed.reconnects, positions });
}
