using System.Text.Json;
using Pilot.Supervisor.Processes;
using Shouldly;
using Xunit;
using static Pilot.Supervisor.Tests.Processes.ProcessTestSupport;

namespace Pilot.Supervisor.Tests.Processes;

/// <summary>
/// The reaper makes this test process a subreaper and reaps every child it does not manage, so nothing else may
/// spawn processes beside it: this collection runs alone.
/// </summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class ReaperCollection;

[Collection(typeof(ReaperCollection))]
public sealed class OrphanReaperTests
{
    [Fact]
    public async Task Reaper_LeavesNoZombies_WhenOrphanStormRunsBesideManagedChildren()
    {
        var launcher = Launcher();
        await using var reaper = new OrphanReaper();
        reaper.Start();
        reaper.IsSubreaper.ShouldBeTrue();

        var storm = launcher.Start(Request("for i in $(seq 500); do (sleep 0.01 &) ; done", null, name: "storm"));
        var runs = Enumerable.Range(0, 200).Select(i => (Expected: i % 256, Run: launcher.Start(Request($"exit {i % 256}", null)))).ToList();

        (await storm.Exited.Bounded()).Success.ShouldBeTrue();
        foreach (var (expected, run) in runs)
        {
            (await run.Exited.Bounded()).ShouldBe(new ProcessExit(expected, null));
        }

        (await EventuallyAsync(() => ChildStates().Count == 0, TimeSpan.FromSeconds(20))).ShouldBeTrue();
        ZombieChildren().ShouldBe(0);
        reaper.OrphansReaped.ShouldBeGreaterThanOrEqualTo(500);
        ManagedChildren.Shared.Count.ShouldBe(0);
    }

    [Fact]
    public async Task Reaper_ReapsOrphanOnSigchld_BeforeTheSafetyPoll()
    {
        // A poll interval of an hour: only the SIGCHLD wake-up can reap in time.
        await using var reaper = new OrphanReaper(pollInterval: TimeSpan.FromHours(1));
        reaper.Start();
        var before = reaper.OrphansReaped;

        var run = Launcher().Start(Request("(sleep 0.2 &)", null));
        (await run.Exited.Bounded()).Success.ShouldBeTrue();

        (await EventuallyAsync(() => reaper.OrphansReaped > before && ChildStates().Count == 0, TimeSpan.FromSeconds(10))).ShouldBeTrue();
    }

    [Fact]
    public async Task SafetyPoll_MakesNoPass_WhenNoChildHasExited()
    {
        var run = Launcher().Start(Request("exec sleep 30", null));
        await using var reaper = new OrphanReaper(pollInterval: TimeSpan.FromMilliseconds(20), maxPollInterval: TimeSpan.FromMilliseconds(20));
        try
        {
            reaper.Start();
            (await EventuallyAsync(() => reaper.SafetyPolls >= 1, TimeSpan.FromSeconds(10))).ShouldBeTrue();
            var (passes, polls) = (reaper.Passes, reaper.SafetyPolls);

            (await EventuallyAsync(() => reaper.SafetyPolls >= polls + 10, TimeSpan.FromSeconds(10))).ShouldBeTrue();

            OrphanReaper.AnyChildExited().ShouldBeFalse();
            reaper.Passes.ShouldBe(passes);
        }
        finally
        {
            run.SignalGroup(SignalNames.SIGKILL);
            await run.Exited.Bounded();
        }
    }

    [Fact]
    public void NextPollInterval_DoublesWhileQuiet_UpToTheLongest()
    {
        var (first, longest) = (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(64));
        var waits = new List<TimeSpan>();
        var wait = first;
        for (var i = 0; i < 9; i++)
        {
            wait = OrphanReaper.NextPollInterval(wait, woken: false, first, longest);
            waits.Add(wait);
        }

        waits.Select(w => w.TotalSeconds).ShouldBe([2, 4, 8, 16, 32, 64, 64, 64, 64]);
    }

    [Fact]
    public void NextPollInterval_IsTheFirstAgain_AfterASigchld() =>
        OrphanReaper.NextPollInterval(TimeSpan.FromSeconds(64), woken: true, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(64))
            .ShouldBe(TimeSpan.FromSeconds(1));

    [Fact]
    public async Task ListChildren_HoldsEveryRunningChild_WhenSeveralRun()
    {
        var launcher = Launcher();
        var runs = Enumerable.Range(0, 3).Select(_ => launcher.Start(Request("exec sleep 30", null))).ToList();
        try
        {
            runs.Select(r => r.Pid).ShouldBeSubsetOf(OrphanReaper.ListChildren());
        }
        finally
        {
            foreach (var run in runs)
            {
                run.SignalGroup(SignalNames.SIGKILL);
                await run.Exited.Bounded();
            }
        }
    }

    [Fact]
    public async Task ReapOnce_AllocatesNothing_WhenThereIsNothingToReap()
    {
        await using var reaper = new OrphanReaper(pollInterval: TimeSpan.FromHours(1));
        var run = Launcher().Start(Request("exec sleep 30", null));
        try
        {
            _ = reaper.ReapOnce(); // opens /proc/self/task once and sizes the pid buffer

            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100; i++)
            {
                _ = reaper.ReapOnce();
            }

            (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
            reaper.Passes.ShouldBe(101);
        }
        finally
        {
            run.SignalGroup(SignalNames.SIGKILL);
            await run.Exited.Bounded();
        }
    }

    [Fact]
    public async Task Reaper_KeepsExitCodesAndLeavesNoZombies_WhenRunningAsPid1()
    {
        var output = new OutputCollector();
        var command = new Pilot.Supervisor.Config.CommandSpec("unshare",
            ["--fork", "--pid", "--mount-proc", ReaperProbeBin, "--shim", PilotBin, "managed", "200", "orphans", "500"]);

        var exit = await Launcher().Start(new ProcessStartRequest("probe", command, output.Add)).Exited.Bounded();

        exit.Success.ShouldBeTrue(string.Join('\n', output.Lines.Select(l => l.Text)));
        var json = output.Lines.Single(l => !l.IsStdErr && l.Text.StartsWith('{')).Text;
        using var result = JsonDocument.Parse(json);
        var root = result.RootElement;
        root.GetProperty("pid").GetInt32().ShouldBe(1, json);
        root.GetProperty("stormExit").GetInt32().ShouldBe(0, json);
        root.GetProperty("wrongExitCodes").GetInt32().ShouldBe(0, json);
        root.GetProperty("zombies").GetInt32().ShouldBe(0, json);
        root.GetProperty("childrenLeft").GetInt32().ShouldBe(0, json);
        root.GetProperty("managedLeft").GetInt32().ShouldBe(0, json);
    }
}
