using System.Collections.Immutable;
using System.Net;
using Pilot.Api.Tests.Support;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Shouldly;
using Xunit;

namespace Pilot.Api.Tests.Control;

public sealed class CommandEndpointTests
{
    [Fact]
    public async Task Reload_Answers200_WhenTheSupervisorReloads()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, body, _) = await host.Client.PostJsonAsync("/v3/reload", null, host.Token);

        status.ShouldBe(HttpStatusCode.OK);
        body.GetProperty("reloaded").GetBoolean().ShouldBeTrue();
        host.Supervisor.Reloads.ShouldBe(1);
    }

    [Fact]
    public async Task Reload_Answers422WithEveryError_WhenTheNewConfigIsInvalid()
    {
        await using var host = await ControlPlaneHost.StartAsync();
        host.Supervisor.NextReloadErrors =
        [
            new ConfigError("jobs[0].when.interval", "time: invalid duration xx", 7),
            new ConfigError("watches[1].name", "`name` must not be blank"),
        ];

        var (status, body, type) = await host.Client.PostJsonAsync("/v3/reload", "ignored body", host.Token);

        status.ShouldBe(HttpStatusCode.UnprocessableEntity);
        type.ShouldBe("application/problem+json");
        var errors = body.GetProperty("errors").EnumerateArray().ToArray();
        errors.Length.ShouldBe(2);
        errors[0].GetProperty("path").GetString().ShouldBe("jobs[0].when.interval");
        errors[0].GetProperty("message").GetString().ShouldBe("time: invalid duration xx");
        errors[0].GetProperty("line").GetInt32().ShouldBe(7);
        errors[1].TryGetProperty("line", out _).ShouldBeFalse();
        host.Supervisor.Reloads.ShouldBe(0);
    }

    [Fact]
    public async Task Maintenance_AnswersUpdated_OnlyWhenTheStateChanges()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var first = await host.Client.PostJsonAsync("/v3/maintenance/enable", null, host.Token);
        var again = await host.Client.PostJsonAsync("/v3/maintenance/enable", null, host.Token);
        var disable = await host.Client.PostJsonAsync("/v3/maintenance/disable", null, host.Token);

        first.Status.ShouldBe(HttpStatusCode.OK);
        first.Body.GetProperty("updated").GetBoolean().ShouldBeTrue();
        again.Body.GetProperty("updated").GetBoolean().ShouldBeFalse();
        disable.Body.GetProperty("updated").GetBoolean().ShouldBeTrue();
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public async Task Ping_Answers200Ok_OnAnyMethod(string method)
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, body, _) = await host.Client.SendJsonAsync(new HttpMethod(method), "/v3/ping", null, host.Token);

        status.ShouldBe(HttpStatusCode.OK);
        body.GetProperty("ok").GetBoolean().ShouldBeTrue();
    }

    [Theory]
    [InlineData("GET", "/v3/environ")]
    [InlineData("GET", "/v3/env")]
    [InlineData("PUT", "/v3/metric")]
    [InlineData("GET", "/v3/reload")]
    [InlineData("DELETE", "/v3/maintenance/enable")]
    [InlineData("GET", "/v3/maintenance/disable")]
    [InlineData("POST", "/v3/status")]
    public async Task Endpoint_Answers405ProblemWithAllow_WhenMethodIsWrong(string method, string path)
    {
        await using var host = await ControlPlaneHost.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);

        using var response = await host.Client.SendAsync(request, host.Token);

        response.StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        response.Content.Headers.Allow.ShouldNotBeEmpty();
    }

    [Theory]
    [InlineData("/v3/nothing")]
    [InlineData("/v2/ping")]
    [InlineData("/v3/environ/extra")]
    [InlineData("/")]
    public async Task Endpoint_Answers404Problem_WhenPathIsUnknown(string path)
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var (status, body, type) = await host.Client.PostJsonAsync(path, "{}", host.Token);

        status.ShouldBe(HttpStatusCode.NotFound);
        type.ShouldBe("application/problem+json");
        body.GetProperty("status").GetInt32().ShouldBe(404);
    }

    [Fact]
    public async Task Status_ReturnsTheSupervisorSnapshot()
    {
        await using var host = await ControlPlaneHost.StartAsync();
        host.Supervisor.Status = new SupervisorSnapshot(
            "0.1.0",
            true,
            [new JobSnapshot { Name = "app", State = JobState.Running, Health = HealthStatus.Healthy, Pid = 42, IsService = true, Version = 3 }],
            [new WatchSnapshot("db", [new WatchInstance("db-1", "10.0.0.7", 5432)], null)]);

        var (status, body, _) = await host.Client.GetJsonAsync("/v3/status", host.Token);

        status.ShouldBe(HttpStatusCode.OK);
        body.GetProperty("maintenance").GetBoolean().ShouldBeTrue();
        var job = body.GetProperty("jobs")[0];
        job.GetProperty("name").GetString().ShouldBe("app");
        job.GetProperty("state").GetString().ShouldBe("running");
        job.GetProperty("health").GetString().ShouldBe("healthy");
        job.GetProperty("pid").GetInt32().ShouldBe(42);
        body.GetProperty("watches")[0].GetProperty("instances")[0].GetProperty("port").GetInt32().ShouldBe(5432);
    }

    [Fact]
    public async Task Job_ReturnsOneJob_AndAnswers404_WhenUnknown()
    {
        await using var host = await ControlPlaneHost.StartAsync();
        host.Supervisor.Status = new SupervisorSnapshot("0.1.0", false,
            [new JobSnapshot { Name = "app", State = JobState.Waiting, LastExitCode = 3 }], ImmutableArray<WatchSnapshot>.Empty);

        var known = await host.Client.GetJsonAsync("/v3/jobs/app", host.Token);
        var unknown = await host.Client.GetJsonAsync("/v3/jobs/ghost", host.Token);

        known.Status.ShouldBe(HttpStatusCode.OK);
        known.Body.GetProperty("state").GetString().ShouldBe("waiting");
        known.Body.GetProperty("lastExitCode").GetInt32().ShouldBe(3);
        unknown.Status.ShouldBe(HttpStatusCode.NotFound);
        unknown.Body.GetProperty("detail").GetString().ShouldBe("there is no job named \"ghost\"");
    }

    [Fact]
    public async Task Counter_CountsRepliesPerCodeAndRoute_ButNotUnknownPaths()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        await host.Client.PostJsonAsync("/v3/environ", """{"A":"1"}""", host.Token);
        await host.Client.PostJsonAsync("/v3/environ", "[]", host.Token);
        await host.Client.GetJsonAsync("/v3/environ", host.Token);
        await host.Client.GetJsonAsync("/v3/jobs/x", host.Token);
        await host.Client.GetJsonAsync("/nowhere", host.Token);

        host.Counter.Count(200, "/v3/environ").ShouldBe(1);
        host.Counter.Count(422, "/v3/environ").ShouldBe(1);
        host.Counter.Count(405, "/v3/environ").ShouldBe(1);
        host.Counter.Count(404, "/v3/jobs/{name}").ShouldBe(1);
        host.Counter.Snapshot().Keys.ShouldNotContain(k => k.Path == "/nowhere");
    }
}
