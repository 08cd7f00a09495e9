import { createPilotClient } from "@pilot/control-client";

// Every connection goes to the socket (default /var/run/containerpilot.socket).
const pilot = createPilotClient(process.env.PILOT_SOCKET ?? "/var/run/containerpilot.socket");
const within = () => ({ signal: AbortSignal.timeout(5_000) });
try {
  // Environment for the processes Pilot starts from now on (null sets an empty value).
  const env = await pilot.POST("/v3/environ", { body: { DB_HOST: "10.0.0.5", FEATURE_X: null }, ...within() });
  if (env.error) throw new Error(`environment refused: ${env.error.detail}`);

  // A metric declared in the config's telemetry.metrics: counters add, gauges set.
  const metric = await pilot.POST("/v3/metric", { body: { jobs_done: 1 }, ...within() });
  if (metric.error) throw new Error(`metric refused: ${metric.error.detail}`);

  // Refusals are RFC 7807 problems in `error` (with every finding), not exceptions.
  const bad = await pilot.POST("/v3/environ", { body: { "BAD=NAME": "x" }, ...within() });
  console.error(bad.response.status, bad.error?.detail, bad.error?.errors?.[0]?.message);

  // Maintenance: services leave Consul until disabled again.
  await pilot.POST("/v3/maintenance/enable", within());
  const { data: status } = await pilot.GET("/v3/status", within());
  console.log(JSON.stringify({ maintenance: status?.maintenance, jobs: status?.jobs.map((job) => job.name) }));
} finally {
  await pilot.close(); // releases the socket connections so the process can exit
}
