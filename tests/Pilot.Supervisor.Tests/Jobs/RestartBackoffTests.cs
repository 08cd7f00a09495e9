using Pilot.Supervisor.Config;
using Pilot.Supervisor.Jobs;
using Shouldly;

namespace Pilot.Supervisor.Tests.Jobs;

/// <summary>The restart backoff policy as a pure function: growth, cap, reset after a long run, jitter.</summary>
public sealed class RestartBackoffTests
{
    private static readonly RestartBackoffConfig Config = new()
    {
        Initial = TimeSpan.FromSeconds(1), Factor = 2, Max = TimeSpan.FromSeconds(10), ResetAfter = TimeSpan.FromSeconds(30),
    };

    private const double NoSpread = 0.5;

    [Fact]
    public void Next_WaitsInitial_OnTheFirstRestart()
    {
        var step = RestartBackoff.Next(Config, previousBase: null, lastRun: TimeSpan.Zero, NoSpread);

        step.ShouldBe(new BackoffStep(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), Reset: true));
    }

    [Fact]
    public void Next_GrowsByTheFactor_UpToMax()
    {
        var delays = new List<double>();
        TimeSpan? previous = null;
        for (var i = 0; i < 7; i++)
        {
            var step = RestartBackoff.Next(Config, previous, TimeSpan.FromMilliseconds(5), NoSpread);
            delays.Add(step.Delay.TotalSeconds);
            previous = step.Base;
        }

        delays.ShouldBe([1, 2, 4, 8, 10, 10, 10]);
    }

    [Fact]
    public void Next_StartsOver_AfterARunThatLastedResetAfter()
    {
        var step = RestartBackoff.Next(Config, previousBase: TimeSpan.FromSeconds(8), lastRun: TimeSpan.FromSeconds(30), NoSpread);

        step.ShouldBe(new BackoffStep(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), Reset: true));
    }

    [Fact]
    public void Next_KeepsGrowing_AfterAShorterRun()
    {
        var step = RestartBackoff.Next(Config, previousBase: TimeSpan.FromSeconds(4), lastRun: TimeSpan.FromSeconds(29), NoSpread);

        step.ShouldBe(new BackoffStep(TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(8), Reset: false));
    }

    [Theory]
    [InlineData(0.0, 7.5)]
    [InlineData(0.5, 10)]
    [InlineData(1.0, 12.5)]
    public void Next_SpreadsTheDelayByJitter_ButGrowsFromTheUndisturbedOne(double chance, double seconds)
    {
        var jittered = Config with { Jitter = 0.25 };

        var step = RestartBackoff.Next(jittered, previousBase: TimeSpan.FromSeconds(8), lastRun: TimeSpan.Zero, chance);

        step.Delay.ShouldBe(TimeSpan.FromSeconds(seconds));
        step.Base.ShouldBe(TimeSpan.FromSeconds(10));
    }
}
