import { HttpProblem } from "./problem.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a JSON request body of at most `limit` bytes. The limit is enforced while
 * streaming, so an oversized or endless body is refused without buffering it.
 */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const mediaType = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new HttpProblem(415, `Content-Type must be application/json, got ${mediaType ? JSON.stringify(mediaType) : "none"}`);
  }
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > limit) throw tooLarge(limit);

  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    for await (const chunk of request.body) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk);
    }
  }

  let text: string;
  try {
    text = utf8.decode(Buffer.concat(chunks, size));
  } catch {
    throw new HttpProblem(400, "Request body is not valid UTF-8");
  }
  if (text.trim() === "") throw new HttpProblem(400, "Request body is empty; send a JSON object");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpProblem(400, `Request body is not valid JSON: ${(error as Error).message}`);
  }
}

function tooLarge(limit: number): HttpProblem {
  return new HttpProblem(413, `Request body is larger than ${limit} bytes`);
}
