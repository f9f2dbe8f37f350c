// The live page at GET /: the feed through the typed client, a form to post, edit and delete.
// Everything shown is set as text (textContent), never as HTML: a post's content is text.
import { type Feed, openFeed, type PostView } from "../client/index.ts";

/** The element `selector` finds in `within`; the page's own markup has each one, so a miss is a bug said out loud. */
function element<T extends Element>(selector: string, within: ParentNode = document): T {
  const found = within.querySelector<T>(selector);
  if (!found) throw new Error(`the page has no ${selector}`);
  return found;
}
const form = element<HTMLFormElement>('[data-testid="compose"]');
const list = element<HTMLOListElement>('[data-testid="posts"]');
const error = element<HTMLOutputElement>('[data-testid="error"]');
const template = element<HTMLTemplateElement>("#post");
const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement;

const token = () => field("token").value.trim();
const headers = (): Record<string, string> => ({
  "Content-Type": "application/json",
  ...(token() ? { Authorization: `Bearer ${token()}` } : {}),
});

let feed: Feed;
let scheduled = false;

function start(): void {
  feed?.close();
  feed = openFeed({ url: location.origin, token });
  feed.on("state", showStatus);
  feed.on("frame", schedule);
  feed.on("reset", schedule);
  feed.on("closed", ({ code, reason }) => (error.textContent = `The feed closed (${code}): ${reason}`));
  showStatus();
}

function showStatus(): void {
  const state = element<HTMLElement>('[data-testid="state"]');
  state.textContent = feed.state;
  state.dataset.state = feed.state;
  element('[data-testid="reconnects"]').textContent = String(feed.reconnects);
  // WebSocket first; Server-Sent Events when a proxy on the way refuses the upgrade.
  const transport = element<HTMLElement>('[data-testid="transport"]');
  transport.textContent = feed.transport === "sse" ? "Server-Sent Events" : "WebSocket";
  transport.dataset.transport = feed.transport;
}

/** One render per animation frame, however many frames arrive. */
function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    render();
  });
}

function render(): void {
  const posts = feed.newestFirst();
  const existing = new Map([...list.children].map((item) => [(item as HTMLElement).dataset.id, item as HTMLLIElement]));
  const items = posts.map((post) =>
    fill(existing.get(post.id) ?? (element("li", template.content).cloneNode(true) as HTMLLIElement), post),
  );
  list.replaceChildren(...items);
  element('[data-testid="count"]').textContent = String(posts.length);
  element('[data-testid="position"]').textContent = feed.position ?? "none yet";
}

function fill(item: HTMLLIElement, post: PostView): HTMLLIElement {
  if (item.dataset.editing) return item; // keep what the user is typing
  item.dataset.id = post.id;
  item.dataset.testid = "post";
  element(".author", item).textContent = post.author;
  const created = element<HTMLTimeElement>("time", item);
  created.dateTime = post.createdAt;
  created.textContent = new Date(post.createdAt).toLocaleString();
  element(".edited", item).textContent = post.updatedAt ? `edited ${new Date(post.updatedAt).toLocaleString()}` : "";
  element(".content", item).textContent = post.content;
  return item;
}

async function send(method: string, path: string, body?: unknown): Promise<boolean> {
  error.textContent = "";
  try {
    const response = await fetch(path, { method, headers: headers(), ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (response.ok) return true;
    const problem = (await response.json().catch(() => ({}))) as { detail?: string; issues?: { message: string }[] };
    error.textContent = [problem.detail ?? `${response.status}`, ...(problem.issues ?? []).map((issue) => issue.message)].join(": ");
  } catch (failure) {
    error.textContent = `Could not reach the server: ${(failure as Error).message}`;
  }
  return false;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const author = field("author").value;
  const body = token() ? { content: field("content").value } : { author, content: field("content").value };
  if (await send("POST", "/posts", body)) field("content").value = "";
});

list.addEventListener("click", async (event) => {
  const button = (event.target as Element).closest("button");
  const item = button?.closest("li");
  const id = item?.dataset.id;
  if (!button || !item || id === undefined) return;
  if (button.classList.contains("delete")) {
    await send("DELETE", `/posts/${id}`);
  } else if (button.classList.contains("edit") && !item.dataset.editing) {
    startEditing(item, feed.posts.get(id)?.content ?? "");
  }
});

function startEditing(item: HTMLLIElement, content: string): void {
  item.dataset.editing = "true";
  const editor = document.createElement("textarea");
  editor.value = content;
  editor.rows = 3;
  const save = document.createElement("button");
  save.type = "button";
  save.textContent = "Save";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.textContent = "Cancel";
  const paragraph = element(".content", item);
  const actions = element(".actions", item);
  const previous = [...actions.childNodes];
  paragraph.replaceWith(editor);
  actions.replaceChildren(save, cancel);
  const stop = () => {
    delete item.dataset.editing;
    editor.replaceWith(paragraph);
    actions.replaceChildren(...previous);
    schedule();
  };
  cancel.addEventListener("click", stop);
  save.addEventListener("click", async () => {
    if (await send("PATCH", `/posts/${item.dataset.id}`, { content: editor.value })) stop();
  });
}

field("token").addEventListener("change", start);
start();
