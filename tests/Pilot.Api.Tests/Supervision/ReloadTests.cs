using System.Net;
using System.Text.Json;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>Reload through the real control socket of the real pilot.</summary>
public sealed class ReloadTests
{
    private const string Before = """
        {
          control: { socket: "SOCKET" },
          jobs: [
            { name: "steady", exec: ["sh", "-c", "echo steady-up; exec sleep 600"] },
            { name: "changing", exec: ["sh", "-c", "echo changing-v1; exec sleep 600"] },
            { name: "removed", exec: ["sh", "-c", "echo removed-up; exec sleep 600"] },
          ],
        }
        """;

    private static async Task<Dictionary<string, JsonElement>> JobsAsync(HttpClient client, CancellationToken token)
    {
        var status = JsonDocument.Parse(await client.GetStringAsync("/v3/status", token)).RootElement;
        return status.GetProperty("jobs").EnumerateArray().ToDictionary(j => j.GetProperty("name").GetString()!, j => j.Clone());
    }

    private static int? Pid(JsonElement job) => job.TryGetProperty("pid", out var pid) && pid.ValueKind == JsonValueKind.Number ? pid.GetInt32() : null;

    /// <summary>The jobs once <paramref name="job"/> shows its pid: its output can come before the step that started it is published.</summary>
    private static async Task<Dictionary<string, JsonElement>> JobsOnceRunningAsync(HttpClient client, string job, CancellationToken token)
    {
        while (true)
        {
            var jobs = await JobsAsync(client, token);
            if (jobs.TryGetValue(job, out var entry) && Pid(entry) is not null)
            {
                return jobs;
            }
            await Task.Delay(20, token);
        }
    }

    [Fact]
    public async Task Reload_RestartsOnlyChangedJobs_StartsAddedOnes_StopsRemovedOnes()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start(Before);
        await pilot.WaitForLineAsync("steady-up", timeout.Token);
        await pilot.WaitForLineAsync("changing-v1", timeout.Token);
        await pilot.WaitForLineAsync("removed-up", timeout.Token);
        using var client = pilot.CreateClient();
        var steadyPid = Pid((await JobsOnceRunningAsync(client, "steady", timeout.Token))["steady"]);
        steadyPid.ShouldNotBeNull();

        pilot.WriteConfig(Before
            .Replace("changing-v1", "changing-v2", StringComparison.Ordinal)
            .Replace("""{ name: "removed", exec: ["sh", "-c", "echo removed-up; exec sleep 600"] },""",
                     """{ name: "added", exec: ["sh", "-c", "echo added-up; exec sleep 600"] },""", StringComparison.Ordinal));
        var response = await client.PostAsync("/v3/reload", null, timeout.Token);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(timeout.Token));
        await pilot.WaitForLineAsync("changing-v2", timeout.Token);
        await pilot.WaitForLineAsync("added-up", timeout.Token);
        var jobs = await JobsAsync(client, timeout.Token);
        Pid(jobs["steady"]).ShouldBe(steadyPid, "an unchanged running job is left alone");
        jobs.ShouldNotContainKey("removed");
        pilot.Lines.Count(l => l.Contains("steady-up", StringComparison.Ordinal)).ShouldBe(1);
    }

    [Fact]
    public async Task InvalidReload_Answers422WithEveryError_AndKeepsTheRunningConfig()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start(Before);
        await pilot.WaitForLineAsync("steady-up", timeout.Token);
        using var client = pilot.CreateClient();
        var before = await JobsOnceRunningAsync(client, "steady", timeout.Token);

        pilot.WriteConfig("""
            {
              control: { socket: "SOCKET" },
              jobs: [ { name: "a", exec: "true", timeout: "xx" }, { name: "b", exec: "true", restarts: -1 } ],
            }
            """);
        var response = await client.PostAsync("/v3/reload", null, timeout.Token);
        var body = await response.Content.ReadAsStringAsync(timeout.Token);

        response.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        body.ShouldContain("jobs[0].timeout");
        body.ShouldContain("jobs[1].restarts");
        var after = await JobsAsync(client, timeout.Token);
        after.Keys.ShouldBe(before.Keys, ignoreOrder: true);
        Pid(after["steady"]).ShouldBe(Pid(before["steady"]));
    }

    [Fact]
    public async Task PutEnv_SurvivesReload_AndReachesTemplatesAndLaterChildren()
    {
        using var timeout = PilotProcess.Timeout();
        const string Config = """
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "keep", exec: "sleep 600" },
                { name: "greeter", exec: ["sh", "-c", "echo rendered={{ .GREETING }} env=$GREETING"], when: { source: "SIGHUP" } },
              ],
            }
            """;
        await using var pilot = RunningPilot.Start(Config);
        await pilot.WaitForSocketAsync(timeout.Token);

        var put = await PilotProcess.RunAsync(["-config", pilot.ConfigPath, "-putenv", "GREETING=hello"], timeout.Token);
        put.ExitCode.ShouldBe(0, put.Stdout + put.Stderr);
        var reload = await PilotProcess.RunAsync(["-config", pilot.ConfigPath, "-reload"], timeout.Token);
        reload.ExitCode.ShouldBe(0, reload.Stdout + reload.Stderr);
        await pilot.WaitForLineAsync("config reloaded", timeout.Token);
        pilot.Signal(1);

        (await pilot.WaitForLineAsync("rendered=", timeout.Token)).ShouldEndWith("rendered=hello env=hello");
    }

    [Fact]
    public async Task Reload_ThatChangesControl_SaysSoInAWarning_AndKeepsServingTheBoundSocket()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start(Before);
        await pilot.WaitForLineAsync("steady-up", timeout.Token);
        using var client = pilot.CreateClient();
        var moved = Path.Combine(pilot.Directory, "moved.socket");

        pilot.WriteConfig(Before.Replace("""control: { socket: "SOCKET" },""", $$"""control: { socket: "{{moved}}", mode: "0660" },""", StringComparison.Ordinal));
        var response = await client.PostAsync("/v3/reload", null, timeout.Token);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(timeout.Token));
        var warning = await pilot.WaitForLineAsync("control: not reloaded", timeout.Token);
        warning.ShouldContain($"stays at {pilot.SocketPath} (mode 0600)");
        warning.ShouldContain($"the new config has {moved} (mode 0660)");
        await pilot.WaitForLineAsync("config reloaded", timeout.Token);
        (await client.GetAsync("/v3/ping", timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK, "the bound socket keeps serving");
        File.Exists(moved).ShouldBeFalse();
    }
}
