// The packed client (installed from its npm tarball) against a real pilot: run by tests/Pilot.Clients.Tests
// (TypeScriptClientTests) in a consumer project, with PILOT_SOCKET set to its control socket. Every call is bounded by a
// timeout.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createPilotClient } from "@pilot/control-client";

const socketPath = process.env.PILOT_SOCKET;
assert.ok(socketPath, "PILOT_SOCKET must name a running pilot's control socket");
const client = createPilotClient(socketPath);
after(() => client.close());

/** A fresh per-call bound: a call that hangs fails the test instead of stalling it. */
const within = () => ({ signal: AbortSignal.timeout(10_000) });

test("environ_Accepted_ValidVariables", { timeout: 30_000 }, async () => {
  const { data, response } = await client.POST("/v3/environ", { body: { SDK_VALUE: "from-typescript" }, ...within() });
  assert.equal(response.status, 200);
  assert.equal(data?.ok, true);
});

test("environ_Rejected_InvalidName", { timeout: 30_000 }, async () => {
  const { error, response } = await client.POST("/v3/environ", { body: { "BAD=NAME": "x" }, ...within() });
  assert.equal(response.status, 422);
  assert.ok(error?.errors?.some((e) => e.message.includes("BAD=NAME")), JSON.stringify(error));
});

test("maintenance_ShownInStatus_AfterEnable", { timeout: 30_000 }, async () => {
  const enabled = await client.POST("/v3/maintenance/enable", within());
  assert.equal(enabled.response.status, 200);
  assert.equal(enabled.data?.updated, true);

  const status = await client.GET("/v3/status", within());
  assert.equal(status.response.status, 200);
  assert.equal(status.data?.maintenance, true);
});

test("status_ListsJobs_FromConfig", { timeout: 30_000 }, async () => {
  const status = await client.GET("/v3/status", within());
  assert.equal(status.response.status, 200);
  const app = status.data?.jobs.find((job) => job.name === "app");
  assert.ok(app, JSON.stringify(status.data));
  assert.ok(Number(app.pid ?? 0) > 0, JSON.stringify(app));

  const job = await client.GET("/v3/jobs/{name}", { params: { path: { name: "app" } }, ...within() });
  assert.equal(job.data?.name, "app");
});
