// Pilot control-plane client: openapi-fetch over the types generated from openapi/pilot.v3.json, dialing the
// Unix socket through undici (Node's fetch cannot reach a Unix socket by itself).
import createClient from "openapi-fetch";
import { Agent, fetch as undiciFetch } from "undici";

/**
 * @param {string} socketPath the control socket (`control.socket` in the config)
 * @returns {import("openapi-fetch").Client<import("./pilot").paths>}
 */
export function createPilotClient(socketPath = "/var/run/containerpilot.socket") {
  const dispatcher = new Agent({ connect: { socketPath } });
  return createClient({
    baseUrl: "http://control",
    fetch: async (request) =>
      undiciFetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body ? await request.text() : undefined,
        dispatcher,
      }),
  });
}
