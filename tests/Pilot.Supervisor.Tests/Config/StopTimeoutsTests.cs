using Pilot.Supervisor.Config;
using Shouldly;
using Xunit;

namespace Pilot.Supervisor.Tests.Config;

public sealed class StopTimeoutsTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Theory]
    [InlineData(null, 5.0, 5.0)]
    [InlineData(0.0, 5.0, 5.0)]
    [InlineData(2.0, 5.0, 2.0)]
    [InlineData(-1.0, 5.0, 5.0)]
    public void Budget_IsTheJobsOwn_WhenPositive_ElseTheGlobalInForce(double? own, double global, double expected) =>
        StopTimeouts.For(own is { } o ? S(o) : null, S(global)).ShouldBe(S(expected));

    [Theory]
    [InlineData(3, 10, 3)]      // what is left of the budget
    [InlineData(0, 10, 1)]      // a wait that used it all still leaves the minimum grace for the SIGTERM
    [InlineData(-2, 10, 1)]
    [InlineData(0.2, 10, 1)]
    [InlineData(0, 0.5, 0.5)]   // never more than the budget itself
    [InlineData(0, 0, 0)]
    public void Grace_IsTheRestOfTheBudget_ButNeverBelowTheMinimum(double left, double budget, double expected) =>
        StopTimeouts.Grace(S(left), S(budget)).ShouldBe(S(expected));

    [Theory]
    [InlineData(null, 5)]
    [InlineData(0L, 5)]
    [InlineData(-3L, 0)]
    [InlineData(12L, 12)]
    public void Global_FollowsV3(long? seconds, double expected) => StopTimeouts.Global(seconds).ShouldBe(S(expected));
}
