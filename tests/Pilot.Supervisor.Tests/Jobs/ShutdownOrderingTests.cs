using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Jobs;
using Shouldly;

namespace Pilot.Supervisor.Tests.Jobs;

/// <summary>The ordered shutdown as a pure function: who waits for whom, and the waves that follow.</summary>
public sealed class ShutdownOrderingTests
{
    private static JobConfig Job(string name, EventCode code = default, string? source = null) => new()
    {
        Name = name,
        Exec = new CommandSpec(name, []),
        When = source is null ? new WhenConfig() : new WhenConfig { Trigger = new Event(code, source), StartsLimit = 1 },
    };

    /// <summary>The order jobs stop in, read off <see cref="ShutdownOrdering.WaitsFor"/>: each wave once every job of the waves before it has stopped.</summary>
    private static ImmutableArray<ImmutableArray<string>> Waves(ImmutableDictionary<string, ImmutableHashSet<string>> waitsFor)
    {
        var stopped = new HashSet<string>(StringComparer.Ordinal);
        var waves = ImmutableArray.CreateBuilder<ImmutableArray<string>>();
        while (stopped.Count < waitsFor.Count)
        {
            var wave = waitsFor.Where(j => !stopped.Contains(j.Key) && j.Value.All(stopped.Contains))
                .Select(j => j.Key).Order(StringComparer.Ordinal).ToImmutableArray();
            stopped.UnionWith(wave);
            waves.Add(wave);
        }
        return waves.ToImmutable();
    }

    [Fact]
    public void WaitsFor_FollowsWhenSourceChains_InReverse()
    {
        var waitsFor = ShutdownOrdering.WaitsFor(
        [
            Job("db"),
            Job("app", EventCode.StatusHealthy, "db"),
            Job("web", EventCode.ExitSuccess, "check.app"),
            Job("cron"),
        ]);

        waitsFor["db"].ShouldBe(["app"], ignoreOrder: true);
        waitsFor["app"].ShouldBe(["web"], ignoreOrder: true);
        waitsFor["web"].ShouldBeEmpty();
        Waves(waitsFor).Select(w => string.Join(",", w)).ShouldBe(["cron,web", "app", "db"]);
    }

    [Fact]
    public void WaitsFor_LeavesOutPreStopAndPostStopJobs_WhichRunAroundTheStop()
    {
        var waitsFor = ShutdownOrdering.WaitsFor(
            [Job("db"), Job("backup", EventCode.Stopping, "db"), Job("notify", EventCode.Stopped, "db"), Job("app", EventCode.StatusHealthy, "db")]);

        waitsFor["db"].ShouldBe(["app"], ignoreOrder: true);
    }

    [Fact]
    public void WaitsFor_DropsTheDependenciesOfACycle_SoItsJobsStopTogether()
    {
        var waitsFor = ShutdownOrdering.WaitsFor(
            [Job("a", EventCode.ExitSuccess, "b"), Job("b", EventCode.ExitSuccess, "a"), Job("c", EventCode.StatusHealthy, "a"), Job("self", EventCode.ExitFailed, "self")]);

        waitsFor["a"].ShouldBe(["c"], ignoreOrder: true);
        waitsFor["b"].ShouldBeEmpty();
        waitsFor["self"].ShouldBeEmpty();
        Waves(waitsFor).Select(w => string.Join(",", w)).ShouldBe(["b,c,self", "a"]);
    }

    [Fact]
    public void WaitsFor_IgnoresSourcesThatAreNotJobs() =>
        ShutdownOrdering.WaitsFor([Job("app", EventCode.StatusHealthy, "watch.db"), Job("hup", EventCode.Signal, "SIGHUP")])
            .Values.ShouldAllBe(v => v.IsEmpty);
}
