using System.Text.Json;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// Issue 29: a reload re-runs nothing whose config did not change — a completed one-shot job stays completed, a waiting
/// job keeps waiting, a periodic job keeps its schedule, and a job whose trigger source changed is left as it is; the
/// reload's log line counts only what changed. The real binary and its control socket.
/// </summary>
public sealed class ReloadUnchangedJobsTests
{
    private const string Config = """
        {
          control: { socket: "SOCKET" },
          jobs: [
            {
              name: "web", exec: ["sh", "-c", "echo web-up WEB; exec sleep 600"],
              health: { exec: "true", interval: 1, ttl: 5 },
            },
            { name: "seed", exec: ["sh", "-c", "echo seed-ran"] },
            { name: "announce", exec: ["sh", "-c", "echo announce-ran"], when: { source: "web", once: "healthy" } },
            { name: "waiter", exec: ["sh", "-c", "echo waiter-ran"], when: { source: "web", once: "unhealthy" } },
            { name: "tick", exec: ["sh", "-c", "echo tick TICK"], when: { interval: "1h" } },
          ],
        }
        """;

    private static string Render(string web, string tick) =>
        Config.Replace("WEB", web, StringComparison.Ordinal).Replace("TICK", tick, StringComparison.Ordinal);

    private static int Count(RunningPilot pilot, string marker) =>
        pilot.Lines.Count(l => l.Contains(marker, StringComparison.Ordinal) && !l.Contains("loaded config", StringComparison.Ordinal));

    private static async Task<Dictionary<string, JsonElement>> JobsAsync(HttpClient client, CancellationToken token)
    {
        var status = JsonDocument.Parse(await client.GetStringAsync("/v3/status", token)).RootElement;
        return status.GetProperty("jobs").EnumerateArray().ToDictionary(j => j.GetProperty("name").GetString()!, j => j.Clone());
    }

    private static async Task<Dictionary<string, JsonElement>> WaitForAsync(
        HttpClient client, Func<Dictionary<string, JsonElement>, bool> condition, CancellationToken token)
    {
        while (true)
        {
            var jobs = await JobsAsync(client, token);
            if (condition(jobs))
            {
                return jobs;
            }
            await Task.Delay(50, token);
        }
    }

    private static CapturedPilot StartEvents(string configPath, string source)
    {
        var start = new System.Diagnostics.ProcessStartInfo(Checkout.PilotBinary());
        foreach (var arg in new[] { "events", source, "-config", configPath })
        {
            start.ArgumentList.Add(arg);
        }
        return CapturedPilot.Start(start);
    }

    private static string State(JsonElement job) => job.GetProperty("state").GetString()!;

    private static int? Pid(JsonElement job) => job.TryGetProperty("pid", out var pid) && pid.ValueKind == JsonValueKind.Number ? pid.GetInt32() : null;

    [Fact]
    public async Task Reload_KeepsUnchangedCompletedWaitingAndPeriodicJobs_AndCountsOnlyWhatChanged()
    {
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(2));
        await using var pilot = RunningPilot.Start(Render("v1", "v1"));
        using var client = pilot.CreateClient();
        await pilot.WaitForSocketAsync(timeout.Token);
        var before = await WaitForAsync(client, jobs =>
            State(jobs["seed"]) == "completed" && State(jobs["announce"]) == "completed" && State(jobs["tick"]) == "exited"
            && Pid(jobs["web"]) is not null, timeout.Token);

        // Only the periodic job changes.
        pilot.WriteConfig(Render("v1", "v2"));
        var reload = await PilotProcess.RunAsync(["-config", pilot.ConfigPath, "-reload"], timeout.Token);
        reload.ExitCode.ShouldBe(0, reload.Output);
        (await pilot.WaitForLineAsync("config reloaded", timeout.Token)).ShouldEndWith("config reloaded: 1 job(s) stopped, 1 started");
        await pilot.WaitForLineAsync("tick v2", timeout.Token);

        var after = await JobsAsync(client, timeout.Token);
        Pid(after["web"]).ShouldBe(Pid(before["web"]), "web is unchanged and keeps running");
        State(after["seed"]).ShouldBe("completed", "an unchanged one-shot job that ran is not run again");
        State(after["announce"]).ShouldBe("completed");
        State(after["waiter"]).ShouldBe("waiting", "an unchanged waiting job keeps waiting");
        Count(pilot, "seed-ran").ShouldBe(1);
        Count(pilot, "announce-ran").ShouldBe(1);

        // Now the trigger source of announce and waiter changes: they are unchanged, so they are left as they are.
        pilot.WriteConfig(Render("v2", "v2"));
        reload = await PilotProcess.RunAsync(["-config", pilot.ConfigPath, "-reload"], timeout.Token);
        reload.ExitCode.ShouldBe(0, reload.Output);
        (await pilot.WaitForLineAsync("config reloaded", timeout.Token, occurrences: 2)).ShouldEndWith("config reloaded: 1 job(s) stopped, 1 started");
        await pilot.WaitForLineAsync("web-up v2", timeout.Token);
        // The new web's check passes twice (a second apart): a `once: healthy` job that already ran does not run for it.
        await using (var events = StartEvents(pilot.ConfigPath, "web"))
        {
            await events.WaitForLineAsync(" healthy web", timeout.Token, occurrences: 2);
        }
        after = await JobsAsync(client, timeout.Token);
        State(after["announce"]).ShouldBe("completed");
        State(after["waiter"]).ShouldBe("waiting");
        State(after["tick"]).ShouldBe("exited");
        Count(pilot, "announce-ran").ShouldBe(1);
        Count(pilot, "seed-ran").ShouldBe(1);
        Count(pilot, "tick v2").ShouldBe(1, "the periodic job kept its schedule");
    }
}
