using System.Globalization;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// Pilot started with its signals ignored (<c>nohup</c> ignores SIGHUP; a non-interactive shell's <c>&amp;</c> job
/// SIGINT and SIGQUIT) still handles every one of them, as v3 did (Go's <c>signal.Notify</c>), and its jobs still start
/// with default dispositions.
/// </summary>
public sealed class IgnoredSignalTests
{
    private const int SIGHUP = 1, SIGINT = 2, SIGUSR2 = 12;

    /// <summary>Ignores the signals, then execs Pilot (an ignored disposition survives exec): what nohup does for SIGHUP.</summary>
    private static readonly string[] IgnoringEverySignal =
        ["sh", "-c", "trap '' HUP INT QUIT TERM USR1 USR2 WINCH CHLD; exec \"$@\"", "ignoring-shell"];

    [Fact]
    public async Task SignalsIgnoredAtStart_AreStillHandled_AndJobsGetDefaultDispositions()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "app", exec: ["sh", "-c", "grep SigIgn /proc/self/status | sed 's/^/app-/'; exec sleep 600"] },
                { name: "on-hup", exec: ["echo", "hup-job-ran"], when: { source: "SIGHUP" } },
                { name: "on-usr2", exec: ["echo", "usr2-job-ran"], when: { source: "SIGUSR2" } },
              ],
            }
            """, wrapper: IgnoringEverySignal);
        var ignoredByJob = await pilot.WaitForLineAsync("app-SigIgn:", timeout.Token);
        // What the job's grep ignores: nothing (the shell ignored all of those signals before Pilot started).
        ulong.Parse(ignoredByJob[(ignoredByJob.IndexOf("app-SigIgn:", StringComparison.Ordinal) + "app-SigIgn:".Length)..].Trim(),
            NumberStyles.HexNumber, CultureInfo.InvariantCulture).ShouldBe(0UL, pilot.Output);
        await pilot.WaitForSocketAsync(timeout.Token);

        pilot.Signal(SIGHUP);
        await pilot.WaitForLineAsync("hup-job-ran", timeout.Token);
        pilot.Signal(SIGUSR2);
        await pilot.WaitForLineAsync("usr2-job-ran", timeout.Token);
        pilot.Signal(SIGINT);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }
}
