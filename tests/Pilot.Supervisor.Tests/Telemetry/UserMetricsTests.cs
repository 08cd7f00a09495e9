using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Telemetry;
using Prometheus;
using Shouldly;

namespace Pilot.Supervisor.Tests.Telemetry;

public sealed class UserMetricsTests
{
    private static MetricConfig Metric(string name, MetricType type, string ns = "", string subsystem = "") =>
        new() { Namespace = ns, Subsystem = subsystem, Name = name, Help = "help for " + name, Type = type };

    private static async Task<string> ExportAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream, TestContext.Current.CancellationToken);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public async Task Put_AppliesAllFourTypes_ByExportedNameAndV3Key()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new UserMetrics(registry, [
            Metric("jobs_done", MetricType.Counter, ns: "app"),
            Metric("queue", MetricType.Gauge),
            Metric("latency", MetricType.Histogram),
            Metric("size", MetricType.Summary),
        ]);

        metrics.Put(new Dictionary<string, double> { ["app_jobs_done"] = 2, ["queue"] = 7, ["latency"] = 0.3, ["size"] = 12 }).Ok.ShouldBeTrue();
        metrics.Put(new Dictionary<string, double> { ["app__jobs_done"] = 3, ["__queue"] = 4 }).Ok.ShouldBeTrue();

        var text = await ExportAsync(registry);
        text.ShouldContain("app_jobs_done 5");
        text.ShouldContain("queue 4");
        text.ShouldContain("latency_bucket{le=\"0.5\"} 1");
        text.ShouldContain("latency_count 1");
        text.ShouldContain("size_sum 12");
        text.ShouldContain("size{quantile=\"0.99\"} 12");
    }

    [Fact]
    public async Task Put_RefusesTheWholeRequest_WhenAKeyIsUnknownOrACounterWouldDecrease()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new UserMetrics(registry, [Metric("hits", MetricType.Counter), Metric("level", MetricType.Gauge)]);

        var unknown = metrics.Put(new Dictionary<string, double> { ["level"] = 3, ["nope"] = 1 });
        var negative = metrics.Put(new Dictionary<string, double> { ["level"] = 3, ["hits"] = -1 });

        unknown.Errors.ShouldBe(["unknown metric 'nope': not in telemetry.metrics"]);
        negative.Errors.ShouldBe(["metric 'hits' is a counter: it cannot decrease (got -1)"]);
        (await ExportAsync(registry)).ShouldNotContain("level 3");
    }

    [Fact]
    public async Task Reconfigure_KeepsValuesOfMetricsThatStillExist_AndDropsRemovedOnes()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new UserMetrics(registry, [Metric("kept", MetricType.Counter), Metric("dropped", MetricType.Gauge)]);
        metrics.Put(new Dictionary<string, double> { ["kept"] = 5, ["dropped"] = 9 });

        metrics.Reconfigure([Metric("kept", MetricType.Counter), Metric("added", MetricType.Gauge)]);
        metrics.Put(new Dictionary<string, double> { ["kept"] = 1, ["added"] = 2 }).Ok.ShouldBeTrue();

        var text = await ExportAsync(registry);
        text.ShouldContain("kept 6");
        text.ShouldContain("added 2");
        text.ShouldNotContain("dropped 9");
        metrics.Put(new Dictionary<string, double> { ["dropped"] = 1 }).Ok.ShouldBeFalse();
    }

    [Fact]
    public async Task PilotMetrics_CountEventsControlRequestsWatchesAndJobs()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new PilotMetrics(registry);
        var started = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

        metrics.Observe(new Event(EventCode.ExitSuccess, "app"));
        metrics.Observe(new Event(EventCode.ExitSuccess, "app"));
        metrics.Observe(new Event(EventCode.Metric, "x|1"));
        metrics.CountControlRequest(200, "/v3/ping");
        metrics.SetWatchInstances("backend", 3);
        metrics.Observe(new JobSnapshot
        {
            Name = "app", State = JobState.Waiting, Health = HealthStatus.Healthy, Restarts = 2, LastExitCode = 1,
            LastStarted = started, LastExited = started.AddSeconds(1.5),
        });

        var text = await ExportAsync(registry);
        text.ShouldContain("containerpilot_events{code=\"ExitSuccess\",source=\"app\"} 2");
        text.ShouldNotContain("code=\"Metric\"");
        text.ShouldContain("containerpilot_control_http_requests{code=\"200\",path=\"/v3/ping\"} 1");
        text.ShouldContain("containerpilot_watch_instances{service=\"backend\"} 3");
        text.ShouldContain("pilot_job_restarts_total{job=\"app\"} 2");
        text.ShouldContain("pilot_job_last_exit_code{job=\"app\"} 1");
        text.ShouldContain("pilot_job_state{job=\"app\",state=\"waiting\"} 1");
        text.ShouldContain("pilot_job_health{job=\"app\",status=\"healthy\"} 1");
        text.ShouldContain("pilot_job_run_duration_seconds_sum{job=\"app\"} 1.5");
    }

    [Fact]
    public async Task PilotMetrics_FollowEachJobsStateAndHealth_AndDropAnOlderSnapshot()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new PilotMetrics(registry);

        metrics.Observe(new JobSnapshot { Name = "a", State = JobState.Running, Health = HealthStatus.Healthy, Version = 1 });
        metrics.Observe(new JobSnapshot { Name = "b", State = JobState.Running, Version = 2 });
        metrics.Observe(new JobSnapshot { Name = "a", State = JobState.Stopped, Health = HealthStatus.Unhealthy, Restarts = 1, Version = 3 });
        metrics.Observe(new JobSnapshot { Name = "a", State = JobState.Running, Health = HealthStatus.Healthy, Version = 2 }); // late, dropped

        var text = await ExportAsync(registry);
        text.ShouldContain("pilot_job_state{job=\"a\",state=\"stopped\"} 1");
        text.ShouldContain("pilot_job_state{job=\"a\",state=\"running\"} 0");
        text.ShouldContain("pilot_job_state{job=\"a\",state=\"idle\"} 0");
        text.ShouldContain("pilot_job_health{job=\"a\",status=\"unhealthy\"} 1");
        text.ShouldContain("pilot_job_health{job=\"a\",status=\"healthy\"} 0");
        text.ShouldContain("pilot_job_restarts_total{job=\"a\"} 1");
        text.ShouldContain("pilot_job_state{job=\"b\",state=\"running\"} 1");
        text.ShouldContain("pilot_job_health{job=\"b\",status=\"unknown\"} 1");
        text.ShouldContain("pilot_job_restarts_total{job=\"b\"} 0");
    }

    [Fact]
    public async Task PilotMetrics_ShowTheRestartBackoff_DelayAndDueTime()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new PilotMetrics(registry);
        var due = DateTimeOffset.Parse("2026-01-01T00:00:02Z", System.Globalization.CultureInfo.InvariantCulture);

        metrics.Observe(new JobSnapshot { Name = "crasher", State = JobState.Exited, RestartDelay = TimeSpan.FromSeconds(1.5), NextRestart = due, Version = 1 });
        var waiting = await ExportAsync(registry);
        metrics.Observe(new JobSnapshot { Name = "crasher", State = JobState.Running, RestartDelay = TimeSpan.FromSeconds(1.5), Version = 2 });
        var restarted = await ExportAsync(registry);

        waiting.ShouldContain("pilot_job_restart_delay_seconds{job=\"crasher\"} 1.5");
        waiting.ShouldContain($"pilot_job_next_restart_timestamp_seconds{{job=\"crasher\"}} {due.ToUnixTimeSeconds()}");
        restarted.ShouldContain("pilot_job_next_restart_timestamp_seconds{job=\"crasher\"} 0");
    }
}
