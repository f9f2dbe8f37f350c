// The Node reference for `bun run bench`: the feed server as it is commonly written on Node
// (node:http, the `ws` package, the official mongodb driver, one change stream, a loop calling
// `send` for each client). Same contract as mongo-feed for what the bench uses: POST /posts
// answers 201 with the post, and every insert reaches every socket as
// {"type":"insert","position","post"}. Run with the machine's `node`:
//   MONGODB_URI=mongodb://127.0.0.1:27017/bench?replicaSet=rs0 PORT=0 node test/bench/node-reference/server.mjs
import http from "node:http";
import { MongoClient } from "mongodb";
import { WebSocket, WebSocketServer } from "ws";

const MAX_BODY_BYTES = 64 * 1024;
// The same bounds as mongo-feed's NewPostSchema (author 1–64 characters, content 1–10,000).
const uri = process.env.MONGODB_URI ?? "mongodb://127.0.0.1:27017/social_network?replicaSet=rs0";
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? "127.0.0.1";

const client = await new MongoClient(uri).connect();
const posts = client.db().collection("posts");

const toView = (post) => ({
  id: post._id.toHexString(),
  author: post.author,
  content: post.content,
  createdAt: post.createdAt.toISOString(),
});

const send = (response, status, body) => {
  response.writeHead(status, { "Content-Type": "application/json" });
  response.end(JSON.stringify(body));
};

const server = http.createServer((request, response) => {
  if (request.method !== "POST" || request.url !== "/posts") return send(response, 404, { error: "not found" });
  const chunks = [];
  let size = 0;
  request.on("data", (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) request.destroy();
    else chunks.push(chunk);
  });
  request.on("end", async () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return send(response, 400, { error: "the body is not JSON" });
    }
    const { author, content } = body ?? {};
    if (typeof author !== "string" || !author || author.length > 64 || typeof content !== "string" || !content || content.length > 10_000) {
      return send(response, 400, { error: "author and content must be non-empty strings" });
    }
    try {
      const post = { author, content, createdAt: new Date() };
      const { insertedId } = await posts.insertOne(post);
      send(response, 201, toView({ _id: insertedId, ...post }));
    } catch (error) {
      send(response, 503, { error: String(error) });
    }
  });
});

const sockets = new WebSocketServer({ server });

const changes = posts.watch([{ $match: { operationType: "insert" } }]);
changes.on("change", (change) => {
  const frame = JSON.stringify({ type: "insert", position: change._id._data, post: toView(change.fullDocument) });
  for (const socket of sockets.clients) {
    if (socket.readyState === WebSocket.OPEN) socket.send(frame);
  }
});
changes.on("error", (error) => {
  console.error(error);
  process.exit(1);
});

// Listen once the change stream is open (the driver reports its first resume token then), so
// no post accepted afterwards can be missed.
changes.once("resumeTokenChanged", () => {
  server.listen(port, host, () => {
    const { port: bound } = server.address();
    console.log(JSON.stringify({ event: "listening", http: `http://${host}:${bound}/`, websocket: `ws://${host}:${bound}/` }));
  });
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await changes.close();
    await client.close();
    process.exit(0);
  });
}
