using System.Net;
using Pilot.Api.Tests.Support;
using Pilot.Supervisor.Control;
using Shouldly;
using Xunit;

namespace Pilot.Api.Tests.Control;

/// <summary><c>/v3/jobs/{name}/stop|start|restart</c> and <c>/v3/jobs/{name}/logs</c> over the real socket, on a fake supervisor.</summary>
public sealed class JobEndpointTests
{
    private static async Task<ControlPlaneHost> StartWithJobAsync()
    {
        var host = await ControlPlaneHost.StartAsync();
        host.Supervisor.Status = new SupervisorSnapshot("0.1.0", false, [new JobSnapshot { Name = "app", State = JobState.Running, Pid = 42 }], []);
        return host;
    }

    [Theory]
    [InlineData("stop", JobCommand.Stop)]
    [InlineData("start", JobCommand.Start)]
    [InlineData("restart", JobCommand.Restart)]
    public async Task JobCommand_RunsTheCommand_AndAnswersTheJob(string path, JobCommand command)
    {
        await using var host = await StartWithJobAsync();

        var (status, body, contentType) = await host.Client.PostJsonAsync($"/v3/jobs/app/{path}", null, host.Token);

        status.ShouldBe(HttpStatusCode.OK);
        contentType.ShouldBe("application/json");
        body.GetProperty("changed").GetBoolean().ShouldBeTrue();
        body.GetProperty("job").GetProperty("name").GetString().ShouldBe("app");
        host.Supervisor.JobCommands.ShouldBe([("app", command)]);
    }

    [Fact]
    public async Task JobCommand_AnswersChangedFalse_WhenNothingChanged()
    {
        await using var host = await StartWithJobAsync();
        host.Supervisor.JobCommandOutcome = JobCommandOutcome.Unchanged;

        var (status, body, _) = await host.Client.PostJsonAsync("/v3/jobs/app/start", null, host.Token);

        status.ShouldBe(HttpStatusCode.OK);
        body.GetProperty("changed").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task JobCommand_Answers404_ForAnUnknownJob_And409_ForACompletedOne()
    {
        await using var host = await StartWithJobAsync();

        var (missing, missingBody, missingType) = await host.Client.PostJsonAsync("/v3/jobs/ap/restart", null, host.Token);
        host.Supervisor.JobCommandOutcome = JobCommandOutcome.Halted;
        var (halted, haltedBody, _) = await host.Client.PostJsonAsync("/v3/jobs/app/start", null, host.Token);

        missing.ShouldBe(HttpStatusCode.NotFound);
        missingType.ShouldBe("application/problem+json");
        missingBody.GetProperty("detail").GetString().ShouldBe("there is no job named \"ap\"");
        halted.ShouldBe(HttpStatusCode.Conflict);
        haltedBody.GetProperty("detail").GetString()!.ShouldContain("only a reload starts it again");
    }

    [Fact]
    public async Task JobCommand_Answers405_ForGet()
    {
        await using var host = await StartWithJobAsync();

        var (status, _, _) = await host.Client.GetJsonAsync("/v3/jobs/app/restart", host.Token);

        status.ShouldBe(HttpStatusCode.MethodNotAllowed);
        host.Supervisor.JobCommands.ShouldBeEmpty();
    }

    [Fact]
    public async Task Logs_ReturnsTheLastLinesOfTheJobAndItsCheck()
    {
        await using var host = await StartWithJobAsync();
        host.Supervisor.WriteOutput("app", "one");
        host.Supervisor.WriteOutput("check.app", "checked", pid: 50);
        host.Supervisor.WriteOutput("other", "not mine");
        host.Supervisor.WriteOutput("app", "two", isStdErr: true);

        var (status, body, _) = await host.Client.GetJsonAsync("/v3/jobs/app/logs?lines=2", host.Token);

        status.ShouldBe(HttpStatusCode.OK);
        body.GetProperty("name").GetString().ShouldBe("app");
        var lines = body.GetProperty("lines").EnumerateArray().ToList();
        lines.Select(l => l.GetProperty("text").GetString()).ShouldBe(["checked", "two"]);
        lines[0].GetProperty("source").GetString().ShouldBe("check.app");
        lines[0].GetProperty("pid").GetInt32().ShouldBe(50);
        lines[1].GetProperty("stream").GetString().ShouldBe("stderr");
    }

    [Theory]
    [InlineData("/v3/jobs/ap/logs", HttpStatusCode.NotFound)]
    [InlineData("/v3/jobs/app/logs?lines=-1", HttpStatusCode.BadRequest)]
    [InlineData("/v3/jobs/ap/logs?follow=true", HttpStatusCode.NotFound)]
    public async Task Logs_AnswersAProblem_ForAnUnknownJobOrBadLines(string path, HttpStatusCode expected)
    {
        await using var host = await StartWithJobAsync();

        var (status, body, contentType) = await host.Client.GetJsonAsync(path, host.Token);

        status.ShouldBe(expected);
        contentType.ShouldBe("application/problem+json");
        body.GetProperty("detail").GetString().ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task LogsFollow_StreamsTheTail_ThenLinesWrittenLater()
    {
        await using var host = await StartWithJobAsync();
        host.Supervisor.WriteOutput("app", "old-1");
        host.Supervisor.WriteOutput("app", "old-2");
        using var response = await host.Client.GetAsync("/v3/jobs/app/logs?follow=true&lines=1", HttpCompletionOption.ResponseHeadersRead, host.Token);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("text/event-stream");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(host.Token));
        (await reader.ReadLineAsync(host.Token)).ShouldBe(": following");

        host.Supervisor.WriteOutput("app", "new-1");

        var data = new List<string>();
        while (data.Count < 2)
        {
            var line = await reader.ReadLineAsync(host.Token);
            line.ShouldNotBeNull();
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Add(line);
            }
        }
        data[0].ShouldContain("\"text\":\"old-2\"");
        data[1].ShouldContain("\"text\":\"new-1\"");
    }
}
