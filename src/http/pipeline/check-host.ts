import type { HostPolicy } from "../host-policy.ts";
import { HttpProblem, problemResponse } from "../problem.ts";
import { requestUrl, type Step } from "./exchange.ts";

/**
 * 421 Misdirected Request (RFC 9110 §15.5.20: this server does not answer for that authority)
 * for a Host that ALLOWED_HOSTS does not accept, before any CORS grant or upgrade: a DNS-rebinding
 * page's requests name the attacker's host. An unparsable Host goes on to resolveUrl's 400.
 */
export function checkHost(hosts: HostPolicy): Step {
  return (exchange, next) => {
    const url = requestUrl(exchange);
    if (!url || hosts.allows(url.hostname)) return next();
    return Promise.resolve(
      problemResponse(new HttpProblem(421, "This server does not answer for that Host (see ALLOWED_HOSTS)"), url.pathname),
    );
  };
}
