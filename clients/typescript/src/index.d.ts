import type { Client } from "openapi-fetch";
import type { paths } from "./pilot.js";

export type { paths, components, operations } from "./pilot.js";

/** A typed client of Pilot's control plane; close() releases its socket connections. */
export type PilotClient = Client<paths> & { close(): Promise<void> };

/** A typed client of Pilot's control plane over its Unix socket (default /var/run/containerpilot.socket). */
export declare function createPilotClient(socketPath?: string): PilotClient;
