using System.Net;
using Pilot.Api.Tests.Support;
using Shouldly;
using Xunit;

namespace Pilot.Api.Tests.Control;

public sealed class MetricEndpointTests
{
    [Fact]
    public async Task Metric_AppliesValues_WhenBodyIsAnObjectOfNumbers()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, body, _) = await host.Client.PostJsonAsync("/v3/metric", """{"jobs_done_total":2,"queue_depth":12.5}""", host.Token);

        status.ShouldBe(HttpStatusCode.OK);
        body.GetProperty("ok").GetBoolean().ShouldBeTrue();
        host.Supervisor.Metrics["jobs_done_total"].ShouldBe(2);
        host.Supervisor.Metrics["queue_depth"].ShouldBe(12.5);
    }

    [Fact]
    public async Task Metric_AcceptsNumericStrings_AsV3ClientSendsThem()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, _, _) = await host.Client.PostJsonAsync("/v3/metric", """{"queue_depth":"1.5"}""", host.Token);

        status.ShouldBe(HttpStatusCode.OK);
        host.Supervisor.Metrics["queue_depth"].ShouldBe(1.5);
    }

    [Fact]
    public async Task Metric_Answers422AndAppliesNothing_WhenAMetricIsUnknown()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, body, _) = await host.Client.PostJsonAsync("/v3/metric", """{"queue_depth":3,"nope":1}""", host.Token);

        status.ShouldBe(HttpStatusCode.UnprocessableEntity);
        body.ProblemMessages().ShouldContain("unknown metric \"nope\"");
        host.Supervisor.Metrics.ShouldBeEmpty();
    }

    [Fact]
    public async Task Metric_Answers422_WhenACounterWouldDecrease()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, body, _) = await host.Client.PostJsonAsync("/v3/metric", """{"jobs_done_total":-1}""", host.Token);

        status.ShouldBe(HttpStatusCode.UnprocessableEntity);
        body.ProblemMessages().ShouldContain(m => m.Contains("cannot be decreased"));
        host.Supervisor.Metrics.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("""{"queue_depth":"lots"}""", "must be a finite number, not \"lots\"")]
    [InlineData("""{"queue_depth":true}""", "must be a finite number, not a boolean")]
    [InlineData("""{"queue_depth":[1]}""", "must be a finite number, not an array")]
    [InlineData("""{"queue_depth":null}""", "must be a finite number, not null")]
    [InlineData("""{"":1}""", "a metric name cannot be empty")]
    public async Task Metric_Answers422NamingTheValue_WhenAValueHasTheWrongType(string json, string expected)
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, body, _) = await host.Client.PostJsonAsync("/v3/metric", json, host.Token);

        status.ShouldBe(HttpStatusCode.UnprocessableEntity);
        body.ProblemMessages().ShouldContain(m => m.Contains(expected));
        host.Supervisor.Metrics.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("{oops", "not valid JSON")]
    [InlineData("42", "must be a JSON object, not a number")]
    public async Task Metric_Answers422Problem_WhenBodyIsNotAJsonObject(string json, string expected)
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, body, type) = await host.Client.PostJsonAsync("/v3/metric", json, host.Token);

        status.ShouldBe(HttpStatusCode.UnprocessableEntity);
        type.ShouldBe("application/problem+json");
        body.GetProperty("detail").GetString()!.ShouldContain(expected);
    }

    [Fact]
    public async Task Metric_Answers413_WhenBodyExceeds64KiB()
    {
        await using var host = await ControlPlaneHost.StartAsync();
        var big = "{" + string.Join(',', Enumerable.Range(0, 8000).Select(i => $"\"m{i}\":1")) + "}";

        var (status, _, _) = await host.Client.PostJsonAsync("/v3/metric", big, host.Token);

        status.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        host.Supervisor.Metrics.ShouldBeEmpty();
    }
}
