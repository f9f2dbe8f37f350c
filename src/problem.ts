/** One `{ path, message }` entry of a validation problem. */
export type ProblemIssue = { path: string; message: string };

const titles: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  426: "Upgrade Required",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** The one HTTP error type: thrown anywhere in a request, turned into RFC 9457 problem+json by `problemResponse`. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extras: { issues?: ProblemIssue[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

export function problemResponse(problem: HttpProblem, instance?: string): Response {
  const body = {
    type: "about:blank",
    title: titles[problem.status] ?? "Error",
    status: problem.status,
    detail: problem.detail,
    ...(instance ? { instance } : {}),
    ...(problem.extras.issues ? { issues: problem.extras.issues } : {}),
  };
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: { "Content-Type": "application/problem+json", ...problem.extras.headers },
  });
}
