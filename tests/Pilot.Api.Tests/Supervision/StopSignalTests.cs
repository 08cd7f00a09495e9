using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>A job's <c>stopSignal</c> is what its process group gets when Pilot stops it; the grace and SIGKILL stay as they were.</summary>
public sealed class StopSignalTests
{
    private const int SIGTERM = 15;

    // The leader records which signal reached it; `sleep` (same group) gets it too and ends, so the trap runs at once.
    private const string Recorder =
        """exec: ["sh", "-c", "trap 'echo got-QUIT; exit 0' QUIT; trap 'echo got-TERM; exit 0' TERM; echo recorder-up; while true; do sleep 0.1; done"]""";

    [Fact]
    public async Task Shutdown_SendsTheJobsStopSignal_InsteadOfSigterm()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start($$"""
            { control: { socket: "SOCKET" }, jobs: [ { name: "recorder", {{Recorder}}, stopSignal: "SIGQUIT", stopTimeout: "20s" } ] }
            """);
        await pilot.WaitForLineAsync("recorder-up", timeout.Token);

        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldContain("got-QUIT");
        pilot.Output.ShouldNotContain("got-TERM");
        pilot.Output.ShouldNotContain("killing processes for job \"recorder\"");
    }

    [Fact]
    public async Task Shutdown_SendsSigterm_ByDefault()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start($$"""
            { control: { socket: "SOCKET" }, jobs: [ { name: "recorder", {{Recorder}} } ] }
            """);
        await pilot.WaitForLineAsync("recorder-up", timeout.Token);

        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldContain("got-TERM");
        pilot.Output.ShouldNotContain("got-QUIT");
    }

    [Fact]
    public async Task StopSignalIgnored_IsFollowedBySigkill_WhenTheStopTimeoutEnds()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" }, stopTimeout: 30,
              jobs: [ { name: "deaf", exec: ["sh", "-c", "trap '' INT; echo deaf-up; while true; do sleep 0.1; done"], stopSignal: "SIGINT", stopTimeout: "1s" } ],
            }
            """);
        await pilot.WaitForLineAsync("deaf-up", timeout.Token);

        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldContain("killing processes for job \"deaf\"");
    }
}
