using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// Issue 29: a pre-stop job (<c>when: {source: X, once: "stopping"}</c>) runs, and is waited for before X's processes get
/// their signal, at every stop of X — <c>pilot restart</c>, <c>pilot stop</c>, a reload that replaces X, and shutdown —
/// and a restart does not use it up. The real binary, real processes and signals.
/// </summary>
public sealed class PreStopJobTests
{
    private const int SIGTERM = 15;

    // web says when it gets SIGTERM; drain takes a moment, so a web signalled without waiting would print first.
    private const string Config = """
        {
          control: { socket: "SOCKET" },
          stopTimeout: 60,
          jobs: [
            {
              name: "web",
              exec: ["sh", "-c", "trap 'echo web-got-term VERSION; exit 0' TERM; echo web-up VERSION; while :; do sleep 0.05; done"],
              stopTimeout: "30s",
            },
            { name: "drain", exec: ["sh", "-c", "echo drain-start; sleep 0.4; echo drain-end"], when: { source: "web", once: "stopping" } },
          ],
        }
        """;

    private static string Version(string version) => Config.Replace("VERSION", version, StringComparison.Ordinal);

    /// <summary>The drain/web lines of Pilot's output, in order, without prefixes.</summary>
    private static List<string> StopLines(RunningPilot pilot) =>
        [.. pilot.Lines
            .Where(l => !l.Contains("loaded config", StringComparison.Ordinal))
            .Select(l => new[] { "drain-start", "drain-end", "web-got-term" }.FirstOrDefault(m => l.Contains(m, StringComparison.Ordinal)))
            .OfType<string>()];

    [Fact]
    public async Task PreStopJob_RunsAndIsWaitedFor_AtRestartStopReloadAndShutdown()
    {
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(2));
        await using var pilot = RunningPilot.Start(Version("v1"));
        await pilot.WaitForLineAsync("web-up v1", timeout.Token);
        string[] client = ["-config", pilot.ConfigPath];

        // 1. pilot restart
        var restart = await PilotProcess.RunAsync(["restart", "web", .. client], timeout.Token);
        restart.ExitCode.ShouldBe(0, restart.Output);
        await pilot.WaitForLineAsync("web-up v1", timeout.Token, occurrences: 2);

        // 2. pilot stop, then start
        var stop = await PilotProcess.RunAsync(["stop", "web", .. client], timeout.Token);
        stop.ExitCode.ShouldBe(0, stop.Output);
        stop.Stdout.ShouldBe("web: stopped\n");
        var start = await PilotProcess.RunAsync(["start", "web", .. client], timeout.Token);
        start.ExitCode.ShouldBe(0, start.Output);
        await pilot.WaitForLineAsync("web-up v1", timeout.Token, occurrences: 3);

        // 3. a reload that replaces web
        pilot.WriteConfig(Version("v2"));
        var reload = await PilotProcess.RunAsync(["-reload", .. client], timeout.Token);
        reload.ExitCode.ShouldBe(0, reload.Output);
        await pilot.WaitForLineAsync("web-up v2", timeout.Token);
        (await pilot.WaitForLineAsync("config reloaded", timeout.Token)).ShouldEndWith("config reloaded: 1 job(s) stopped, 1 started");

        // 4. shutdown
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);

        // Each of the four stops ran drain to its end before web got its signal.
        StopLines(pilot).ShouldBe(Enumerable.Repeat<string[]>(["drain-start", "drain-end", "web-got-term"], 4).SelectMany(x => x), pilot.Output);
        pilot.Output.ShouldNotContain("stopTimeout reached");
        pilot.Output.ShouldNotContain("killing processes");
    }

    [Fact]
    public async Task PreStopJob_OfAJobThatHaltsOnItsOwn_RunsOnce_AndPilotExits()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "task", exec: ["sh", "-c", "echo task-ran"] },
                { name: "after", exec: ["sh", "-c", "echo after-ran"], when: { source: "task", once: "stopping" } },
                { name: "cleanup", exec: ["sh", "-c", "echo cleanup-ran"], when: { source: "task", once: "stopped" } },
              ],
            }
            """);

        // Every job halts: the hooks ran for the task's stop, then learn it is gone for good, and Pilot exits (v3).
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Lines.Count(l => l.Contains("after-ran", StringComparison.Ordinal) && !l.Contains("loaded config", StringComparison.Ordinal)).ShouldBe(1);
        pilot.Lines.Count(l => l.Contains("cleanup-ran", StringComparison.Ordinal) && !l.Contains("loaded config", StringComparison.Ordinal)).ShouldBe(1);
    }
}
