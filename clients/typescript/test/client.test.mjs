// Run by tests/Pilot.Api.Tests (ClientSdkTests) with PILOT_SOCKET pointing at a running pilot.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPilotClient } from "../src/index.js";

const client = createPilotClient(process.env.PILOT_SOCKET);

test("puts env, enables maintenance and reads status through the generated client", async () => {
  const env = await client.POST("/v3/environ", { body: { TS_CLIENT: "yes" } });
  assert.equal(env.response.status, 200);

  const maintenance = await client.POST("/v3/maintenance/enable");
  assert.equal(maintenance.response.status, 200);
  assert.equal(maintenance.data.updated, true);

  const status = await client.GET("/v3/status");
  assert.equal(status.response.status, 200);
  assert.equal(status.data.maintenance, true);
  assert.ok(status.data.jobs.some((job) => job.name === "app"));

  const bad = await client.POST("/v3/environ", { body: { "BAD=NAME": "x" } });
  assert.equal(bad.response.status, 422);
});
