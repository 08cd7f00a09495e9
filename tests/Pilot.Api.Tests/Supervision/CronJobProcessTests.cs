using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>The real <c>pilot</c> binary running a <c>when.cron</c> job on the wall clock.</summary>
public sealed class CronJobProcessTests
{
    [Fact]
    public async Task CronJob_RunsAtStartup_ThenOnEveryScheduledSecond()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "main", exec: "sleep 600" },
                { name: "tick", exec: ["sh", "-c", "echo tick-ran-at-$(date +%s)"], when: { cron: "* * * * * *" } },
              ],
            }
            """);

        await pilot.WaitForLineAsync("tick-ran-at-", timeout.Token, occurrences: 3);

        var seconds = pilot.Lines.Where(l => l.Contains("tick-ran-at-", StringComparison.Ordinal) && !l.Contains("loaded config", StringComparison.Ordinal))
            .Select(l => long.Parse(l[(l.IndexOf("tick-ran-at-", StringComparison.Ordinal) + "tick-ran-at-".Length)..].Trim(), System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        seconds.Skip(1).Distinct().Count().ShouldBe(seconds.Count - 1, "one scheduled run per second: " + pilot.Output);
        (await NetworkHealthCheckTests.JobFieldAsync(pilot, "tick", "cron", timeout.Token)).ShouldBe("* * * * * *");
        var nextRun = DateTimeOffset.Parse((await NetworkHealthCheckTests.JobFieldAsync(pilot, "tick", "nextRun", timeout.Token))!, System.Globalization.CultureInfo.InvariantCulture);
        (nextRun - DateTimeOffset.UtcNow).ShouldBeLessThan(TimeSpan.FromSeconds(2), "the next run of an every-second schedule");
        (await NetworkHealthCheckTests.JobFieldAsync(pilot, "main", "nextRun", timeout.Token)).ShouldBeNull();
        pilot.Signal(15);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }
}
