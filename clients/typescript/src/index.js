// Pilot control-plane client: openapi-fetch over the types generated from openapi/pilot.v3.json, dialing the
// Unix socket through undici (Node's fetch cannot reach a Unix socket by itself).
import createClient from "openapi-fetch";
import { Agent, fetch as undiciFetch } from "undici";

/**
 * @param {string} socketPath the control socket (`control.socket` in the config)
 * @returns {import("./index.js").PilotClient}
 */
export function createPilotClient(socketPath = "/var/run/containerpilot.socket") {
  const dispatcher = new Agent({ connect: { socketPath } });
  /** @type {import("openapi-fetch").Client<import("./pilot.js").paths>} */
  const client = createClient({
    // The host is never dialed: every connection goes to the socket.
    baseUrl: "http://control",
    fetch: async (request) => {
      const response = await undiciFetch(request.url, {
        method: request.method,
        headers: [...request.headers],
        body: request.body ? await request.text() : undefined,
        // openapi-fetch puts the caller's `signal` on the Request; carry it over so timeouts abort the call.
        signal: request.signal,
        dispatcher,
      });
      // undici's Response is the one Node's global fetch returns; only their type declarations differ.
      return /** @type {Response} */ (/** @type {unknown} */ (response));
    },
  });
  // Idle keep-alive connections would hold the process open; close() lets a script end at once.
  return Object.assign(client, { close: () => dispatcher.close() });
}
