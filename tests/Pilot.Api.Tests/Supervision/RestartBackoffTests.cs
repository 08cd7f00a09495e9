using System.Text.Json;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>A crash-looping job with <c>restartBackoff</c> waits longer before each restart instead of spinning.</summary>
public sealed class RestartBackoffTests
{
    private const int SIGTERM = 15;

    [Fact]
    public async Task CrashLoop_WithUnlimitedRestarts_WaitsAGrowingDelay_AndShowsItInStatus()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [ { name: "crasher", exec: "/bin/false", restarts: "unlimited",
                        restartBackoff: { initial: "100ms", factor: 2, max: "800ms", resetAfter: "1h" } } ],
            }
            """);

        await pilot.WaitForLineAsync("job crasher: restarting in 800ms", timeout.Token, occurrences: 2);
        using var client = pilot.CreateClient();
        var job = JsonDocument.Parse(await client.GetStringAsync("/v3/status", timeout.Token)).RootElement.GetProperty("jobs")[0];

        // (resetAfter is long: on a loaded machine even /bin/false can stay up longer than `max`, the default.)
        // Without a backoff /bin/false restarts hundreds of times in the 2.3 s these delays add up to.
        var delays = pilot.Lines.Where(l => l.Contains("job crasher: restarting in ", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf("restarting in ", StringComparison.Ordinal) + "restarting in ".Length)..].Trim())
            .Take(5).ToList();
        delays.ShouldBe(["100ms", "200ms", "400ms", "800ms", "800ms"], pilot.Output);
        job.GetProperty("restarts").GetInt32().ShouldBeInRange(5, 10, job.ToString());
        var backoff = job.GetProperty("restartBackoff");
        backoff.GetProperty("initial").GetString().ShouldBe("100ms");
        backoff.GetProperty("max").GetString().ShouldBe("800ms");
        backoff.GetProperty("delay").GetString().ShouldBe("800ms");

        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }
}
