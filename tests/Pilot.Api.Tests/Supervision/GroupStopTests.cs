using System.Globalization;
using System.Net;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// A job's stop takes its whole process group: a grandchild that ignores SIGTERM is SIGKILLed after the job's
/// stopTimeout even though the leader died on SIGTERM, both on shutdown and when a reload removes the job.
/// </summary>
public sealed class GroupStopTests
{
    private const int SIGTERM = 15;

    // sh (the leader) dies on SIGTERM; its child ignores it (an ignored signal stays ignored across exec) and stays
    // in the job's process group. It does not hold the output pipes, so the leader's run ends at once.
    private const string StubbornGrandchild =
        """{ name: "stubborn", exec: ["sh", "-c", "(trap '' TERM; exec sleep 600 >/dev/null 2>&1) & echo grandchild=$!; wait"], stopTimeout: "1s" }""";

    private static int GrandchildPid(string line) =>
        int.Parse(line[(line.IndexOf("grandchild=", StringComparison.Ordinal) + "grandchild=".Length)..], CultureInfo.InvariantCulture);

    [Fact]
    public async Task Sigterm_KillsTermIgnoringGrandchild_AfterTheJobsStopTimeout()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start($$"""
            { control: { socket: "SOCKET" }, stopTimeout: 30, jobs: [ {{StubbornGrandchild}} ] }
            """);
        var grandchild = GrandchildPid(await pilot.WaitForLineAsync("grandchild=", timeout.Token));

        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        ProcessTable.IsDead(grandchild).ShouldBeTrue($"grandchild {grandchild} outlived its job:\n{pilot.Output}");
        pilot.Output.ShouldContain("killing processes for job \"stubborn\"");
    }

    [Fact]
    public async Task ReloadRemovingTheJob_KillsTermIgnoringGrandchild()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start($$"""
            {
              control: { socket: "SOCKET" },
              jobs: [ { name: "keeper", exec: ["sh", "-c", "echo keeper-up; exec sleep 600"] }, {{StubbornGrandchild}} ],
            }
            """);
        var grandchild = GrandchildPid(await pilot.WaitForLineAsync("grandchild=", timeout.Token));
        await pilot.WaitForLineAsync("keeper-up", timeout.Token);
        using var client = pilot.CreateClient();

        pilot.WriteConfig("""
            { control: { socket: "SOCKET" }, jobs: [ { name: "keeper", exec: ["sh", "-c", "echo keeper-up; exec sleep 600"] } ] }
            """);
        using var response = await client.PostAsync("/v3/reload", null, timeout.Token);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(timeout.Token));
        ProcessTable.IsDead(grandchild).ShouldBeTrue($"grandchild {grandchild} outlived its removed job:\n{pilot.Output}");
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task EndOfTheGlobalStopWindow_KillsTheGroup_AndPilotExitsOnlyOnceItIsGone()
    {
        using var timeout = PilotProcess.Timeout();
        // The job's own grace (30 s) is longer than the global window (1 s): the window's SIGKILL ends it.
        await using var pilot = RunningPilot.Start($$"""
            { control: { socket: "SOCKET" }, stopTimeout: 1, jobs: [ {{StubbornGrandchild.Replace("\"1s\"", "\"30s\"", StringComparison.Ordinal)}} ] }
            """);
        var grandchild = GrandchildPid(await pilot.WaitForLineAsync("grandchild=", timeout.Token));

        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        ProcessTable.IsDead(grandchild).ShouldBeTrue($"grandchild {grandchild} outlived Pilot:\n{pilot.Output}");
    }
}
