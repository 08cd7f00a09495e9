import type { Client } from "openapi-fetch";
import type { paths } from "./pilot";

export type { paths, components, operations } from "./pilot";

/** A typed client of Pilot's control plane over its Unix socket. */
export declare function createPilotClient(socketPath?: string): Client<paths>;
