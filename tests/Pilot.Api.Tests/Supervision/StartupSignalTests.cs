using System.Globalization;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// SIGTERM at any moment of start-up — while flags and config are read, the host is built, the socket bound, the
/// jobs started — ends in an orderly shutdown (exit 0, no internal error) with none of Pilot's children left.
/// </summary>
public sealed class StartupSignalTests
{
    private const int SIGTERM = 15, SIGUSR2 = 12;
    private const string TrialVariable = "PILOT_STARTUP_TRIAL";

    /// <summary>
    /// Milliseconds between Pilot taking its signals (the first thing it does) and the SIGTERM. They span start-up
    /// under JIT and AOT: config and host before the jobs, jobs starting, and a running Pilot at the end.
    /// </summary>
    private static readonly int[] Delays = [0, 1, 2, 4, 7, 10, 15, 20, 30, 40, 55, 70, 90, 120, 160, 220, 300, 450, 700];

    [Fact]
    public async Task Sigterm_AtAnyMomentOfStartUp_EndsInAnOrderlyShutdownWithNothingLeft()
    {
        foreach (var delay in Delays)
        {
            using var timeout = PilotProcess.Timeout();
            var trial = Guid.NewGuid().ToString("N");
            await using var pilot = RunningPilot.Start("""
                {
                  control: { socket: "SOCKET" },
                  jobs: [
                    { name: "app", exec: ["sleep", "600"], stopTimeout: "2s" },
                    { name: "tick", exec: ["sleep", "600"], when: { interval: "50ms" }, timeout: "10m" },
                    { name: "checked", exec: ["sleep", "600"], health: { exec: ["sleep", "600"], interval: 1, ttl: 5, timeout: "10m" } },
                  ],
                }
                """, environment: new Dictionary<string, string> { [TrialVariable] = trial });
            await WaitUntilCaughtAsync(pilot.Pid, SIGUSR2, timeout.Token);
            // The point of the trial is the moment: a delay, not a wait for something.
            await Task.Delay(delay, timeout.Token);

            pilot.Signal(SIGTERM);

            var exitCode = await pilot.WaitForExitAsync(timeout.Token);
            var context = $"SIGTERM {delay} ms after Pilot took its signals:\n{pilot.Output}";
            exitCode.ShouldBe(0, context);
            pilot.Output.ShouldNotContain("internal error", Case.Sensitive, context);
            ProcessTable.WithEnvironment(TrialVariable, trial).ShouldBeEmpty(context);
        }
    }

    /// <summary>Waits until <paramref name="pid"/> catches <paramref name="signal"/> (its SigCgt mask in /proc).</summary>
    private static async Task WaitUntilCaughtAsync(int pid, int signal, CancellationToken cancellationToken)
    {
        var bit = 1UL << (signal - 1);
        while (true)
        {
            var caught = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigCgt:", StringComparison.Ordinal));
            if (caught is not null && (ulong.Parse(caught["SigCgt:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & bit) != 0)
            {
                return;
            }
            await Task.Delay(1, cancellationToken);
        }
    }
}
