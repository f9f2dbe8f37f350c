import { matchedRoute, routeContext, type Step } from "./exchange.ts";

/** Last: the route's handler, with its validated input. */
export const handle: Step = async (exchange) => {
  const { route } = matchedRoute(exchange);
  const { input } = exchange;
  if (!input) throw new Error("pipeline order: handle must come after validate");
  return route.handle(routeContext(exchange, input));
};
