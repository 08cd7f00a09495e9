using System.Text.Json;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// <c>shutdownOrder: "dependencies"</c>: on SIGTERM a job stops only after the jobs that depend on it through
/// <c>when.source</c> have stopped, and <c>/v3/status</c> shows who holds the shutdown meanwhile.
/// </summary>
public sealed class OrderedShutdownTests
{
    private const int SIGTERM = 15;

    // db is healthy at once, which starts app; app's stop lasts until the test releases it (a file), db's is instant.
    private static string Config(string order) => $$"""
        {
          control: { socket: "SOCKET" }, stopTimeout: 60, shutdownOrder: "{{order}}",
          jobs: [
            { name: "db", exec: ["sh", "-c", "trap 'echo db-term; exit 0' TERM; echo db-up; while true; do sleep 0.1; done"],
              health: { exec: "true", interval: 1, ttl: 5 }, stopTimeout: "30s" },
            { name: "app", when: { source: "db", once: "healthy" }, stopTimeout: "30s",
              exec: ["sh", "-c", "trap 'echo app-term; while [ ! -f DIR/release ]; do sleep 0.05; done; echo app-gone; exit 0' TERM; echo app-up; while true; do sleep 0.1; done"] },
          ],
        }
        """;

    private static int LineOf(RunningPilot pilot, string marker) =>
        pilot.Lines.ToList().FindIndex(l => l.Contains(marker, StringComparison.Ordinal) && !l.Contains("loaded config", StringComparison.Ordinal));

    [Fact]
    public async Task Dependencies_StopsTheDependentFirst_AndStatusShowsWhoHoldsTheShutdown()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start(Config("dependencies"));
        await pilot.WaitForLineAsync("app-up", timeout.Token);
        await pilot.WaitForSocketAsync(timeout.Token);
        using var client = pilot.CreateClient();

        pilot.Signal(SIGTERM);
        await pilot.WaitForLineAsync("app-term", timeout.Token);
        var status = JsonDocument.Parse(await client.GetStringAsync("/v3/status", timeout.Token)).RootElement;
        File.WriteAllText(Path.Combine(pilot.Directory, "release"), "");
        var exitCode = await pilot.WaitForExitAsync(timeout.Token);

        exitCode.ShouldBe(0, pilot.Output);
        status.GetProperty("shutdownOrder").GetString().ShouldBe("dependencies");
        status.GetProperty("holdingShutdown").EnumerateArray().Select(e => e.GetString()).ShouldBe(["app"], status.ToString());
        var db = status.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == "db");
        db.GetProperty("state").GetString().ShouldBe("stopping");
        db.GetProperty("waitingFor").EnumerateArray().Select(e => e.GetString()).ShouldBe(["app"]);
        LineOf(pilot, "db-term").ShouldBeGreaterThan(LineOf(pilot, "app-gone"), pilot.Output);
    }

    [Fact]
    public async Task Together_StopsEveryJobAtOnce_AsV3()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start(Config("together"));
        await pilot.WaitForLineAsync("app-up", timeout.Token);

        pilot.Signal(SIGTERM);
        await pilot.WaitForLineAsync("app-term", timeout.Token);
        await pilot.WaitForLineAsync("db-term", timeout.Token);
        File.WriteAllText(Path.Combine(pilot.Directory, "release"), "");

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        LineOf(pilot, "db-term").ShouldBeLessThan(LineOf(pilot, "app-gone"), pilot.Output);
    }
}
