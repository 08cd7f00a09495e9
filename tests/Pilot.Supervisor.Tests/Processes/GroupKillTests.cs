using System.Globalization;
using Pilot.Supervisor.Processes;
using Shouldly;
using Xunit;
using static Pilot.Supervisor.Tests.Processes.ProcessTestSupport;

namespace Pilot.Supervisor.Tests.Processes;

/// <summary>
/// The killer's signal and wait on real process groups. When SIGKILL follows is the job machine's decision (its kill
/// timer): see JobMachineTableTests and JobTerminationTests.
/// </summary>
public sealed class GroupKillTests
{
    [Fact]
    public async Task SignalGroup_ReachesGrandchildren_WhenTheyShareTheGroup()
    {
        var output = new OutputCollector();
        var run = Launcher().Start(Request("sleep 300 & echo $!; sleep 300 & echo $!; echo ready; wait", output.Add));
        await output.WaitFor("ready").Bounded();
        var grandchildren = output.Lines.Take(2).Select(l => int.Parse(l.Text, CultureInfo.InvariantCulture)).ToList();

        run.SignalGroup(SignalNames.SIGTERM);
        var gone = await ProcessGroupKiller.WaitGoneAsync(run, TimeSpan.FromSeconds(10), TimeProvider.System, TestContext.Current.CancellationToken).Bounded();
        var exit = await run.Exited.Bounded();

        gone.ShouldBeTrue();
        exit.Signal.ShouldBe(SignalNames.SIGTERM);
        (await EventuallyAsync(() => grandchildren.All(IsDead), TimeSpan.FromSeconds(10))).ShouldBeTrue();
        ProcessGroupKiller.GroupExists(run.Pid).ShouldBeFalse();
    }

    [Fact]
    public async Task WaitGoneAsync_WaitsOutTheLimit_WhenSigtermIsIgnored_AndSigkillEndsTheGroup()
    {
        var output = new OutputCollector();
        var run = Launcher().Start(Request("trap '' TERM; echo ready; while :; do sleep 0.05; done", output.Add));
        await output.WaitFor("ready").Bounded();
        var started = TimeProvider.System.GetTimestamp();

        run.SignalGroup(SignalNames.SIGTERM);
        var gone = await ProcessGroupKiller.WaitGoneAsync(run, TimeSpan.FromMilliseconds(500), TimeProvider.System, TestContext.Current.CancellationToken).Bounded();
        await ProcessGroupKiller.KillAsync(run, cancellationToken: TestContext.Current.CancellationToken).Bounded();
        var exit = await run.Exited.Bounded();

        gone.ShouldBeFalse();
        TimeProvider.System.GetElapsedTime(started).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(500));
        exit.Signal.ShouldBe(SignalNames.SIGKILL);
        exit.ToString().ShouldBe("signal: killed");
        ProcessGroupKiller.GroupExists(run.Pid).ShouldBeFalse();
    }

    [Fact]
    public async Task WaitGoneAsync_WaitsForTheWholeGroup_WhenTheLeaderDiesOnSigtermButAGrandchildIgnoresIt()
    {
        var output = new OutputCollector();
        // sh dies on SIGTERM; the grandchild ignores it (an ignored signal stays ignored across exec) and keeps the group.
        var run = Launcher().Start(Request("(trap '' TERM; exec sleep 300) & echo $!; echo ready; wait", output.Add));
        await output.WaitFor("ready").Bounded();
        var grandchild = int.Parse(output.Lines[0].Text, CultureInfo.InvariantCulture);

        run.SignalGroup(SignalNames.SIGTERM);
        var gone = await ProcessGroupKiller.WaitGoneAsync(run, TimeSpan.FromMilliseconds(300), TimeProvider.System, TestContext.Current.CancellationToken).Bounded();

        gone.ShouldBeFalse();
        run.IsGroupAlive.ShouldBeTrue();
        await ProcessGroupKiller.KillAsync(run, cancellationToken: TestContext.Current.CancellationToken).Bounded();
        run.IsGroupAlive.ShouldBeFalse();
        IsDead(grandchild).ShouldBeTrue();
        (await run.Exited.Bounded()).Signal.ShouldBe(SignalNames.SIGTERM, "the leader itself died on SIGTERM");
    }

    [Fact]
    public async Task KillAsync_KillsTheGroup_WhenTheLeaderAlreadyExited()
    {
        var output = new OutputCollector();
        // The leader exits at once; its child stays in the group, ignoring SIGTERM.
        var run = (RunningProcess)Launcher().Start(Request("(trap '' TERM; echo $$ >/dev/null; echo ready; exec sleep 300) &", output.Add));
        await run.LeaderExited.Bounded();
        await output.WaitFor("ready").Bounded();
        ProcessGroupKiller.GroupExists(run.Pid).ShouldBeTrue();

        await ProcessGroupKiller.KillAsync(run, cancellationToken: TestContext.Current.CancellationToken).Bounded();

        ProcessGroupKiller.GroupExists(run.Pid).ShouldBeFalse();
        (await run.Exited.Bounded()).Success.ShouldBeTrue();
    }

    [Fact]
    public async Task WaitGoneAsync_ReturnsAtOnce_WhenTheGroupIsGone()
    {
        var run = Launcher().Start(Request("exit 0", null));
        await run.Exited.Bounded();

        (await ProcessGroupKiller.WaitGoneAsync(run, TimeSpan.FromSeconds(30), TimeProvider.System, TestContext.Current.CancellationToken).Bounded())
            .ShouldBeTrue();
    }
}
