// The tutorial-style baseline (the bare Bun ceiling) of test/bench/bench.ts: POST publishes straight to every
// socket, with no MongoDB, no validation and no history. The real server's figures are
// reported as ratios against this one, measured in the same run on the same machine.
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request, server) {
    if (server.upgrade(request)) return undefined;
    const post = (await request.json()) as { author: string; content: string };
    const view = { id: crypto.randomUUID(), ...post, createdAt: new Date().toISOString() };
    server.publish("posts", JSON.stringify({ type: "insert", position: "baseline", post: view }));
    return Response.json(view, { status: 201 });
  },
  websocket: {
    open: (ws) => void ws.subscribe("posts"),
    message: () => {},
  },
});
console.log(JSON.stringify({ event: "listening", msg: "listening", http: server.url.href, websocket: `ws://${server.url.host}/` }));
