using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>A job's <c>onSuccess</c> / <c>onFailure</c> set to <c>shutdown</c> stops Pilot (and every other job) with the run's exit code.</summary>
public sealed class ExitPolicyTests
{
    private const string LongRunner = """{ name: "server", exec: ["sh", "-c", "echo server-up; exec sleep 600"] }""";

    [Fact]
    public async Task OnFailureShutdown_StopsPilot_WithTheJobsExitCode()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start($$"""
            {
              control: { socket: "SOCKET" },
              jobs: [
                {{LongRunner}},
                { name: "check", exec: ["sh", "-c", "sleep 0.2; exit 3"], restarts: "unlimited", onFailure: "shutdown" },
              ],
            }
            """);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(3, pilot.Output);
        pilot.Output.ShouldContain("job check: onFailure is \"shutdown\": shutting Pilot down with exit code 3");
        pilot.Output.ShouldContain("server-up");
    }

    [Fact]
    public async Task OnSuccessShutdown_StopsPilot_WithExitCodeZero_AndEndsTheOtherJobs()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start($$"""
            {
              control: { socket: "SOCKET" },
              jobs: [
                {{LongRunner}},
                { name: "starter", exec: ["sh", "-c", "sleep 0.2"], onSuccess: "shutdown" },
              ],
            }
            """);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldContain("job starter: onSuccess is \"shutdown\": shutting Pilot down with exit code 0");
        pilot.Output.ShouldContain("shutting down");
    }

    [Fact]
    public async Task OnSuccessShutdown_DoesNotApplyToAFailure_WhichRestartsAsBefore()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [ { name: "flaky", exec: ["sh", "-c", "echo flaky-run; exit 1"], restarts: 2, onSuccess: "shutdown" } ],
            }
            """);

        // v3's ending: three runs, then every job has halted and Pilot exits with the failure's code.
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(1, pilot.Output);
        pilot.Lines.Count(l => l.Contains("flaky-run", StringComparison.Ordinal) && !l.Contains("loaded config", StringComparison.Ordinal)).ShouldBe(3);
        pilot.Output.ShouldNotContain("onSuccess is \"shutdown\"");
    }
}
