using Pilot.Api.Footprint;
using Shouldly;

namespace Pilot.Api.Tests.Footprint;

/// <summary>When the heap is given back: in the first quiet period after a burst, once per burst.</summary>
public sealed class HeapTrimPolicyTests
{
    private const long Burst = 16L * 1024 * 1024;

    private static bool[] Run(params long[] periods)
    {
        var policy = new HeapTrimPolicy(Burst);
        return [.. periods.Select(policy.ShouldTrim)];
    }

    [Fact]
    public void Quiet_NeverTrims() => Run(0, 1024, Burst - 1, 0).ShouldAllBe(trim => !trim);

    [Fact]
    public void Burst_TrimsInTheFirstQuietPeriodAfterIt_Once() =>
        Run(0, Burst, Burst * 10, 0, 0, 0).ShouldBe([false, false, false, true, false, false]);

    [Fact]
    public void EveryBurst_GetsItsOwnTrim() =>
        Run(Burst, 0, Burst, 100, 0).ShouldBe([false, true, false, true, false]);

    [Fact]
    public void BurstPending_FromABusyPeriodUntilTheNextQuietOne()
    {
        var policy = new HeapTrimPolicy(Burst);
        policy.BurstPending.ShouldBeFalse();
        _ = policy.ShouldTrim(0);
        policy.BurstPending.ShouldBeFalse();
        _ = policy.ShouldTrim(Burst / 4);
        policy.BurstPending.ShouldBeTrue();
        _ = policy.ShouldTrim(0);
        policy.BurstPending.ShouldBeFalse();
    }

    [Fact]
    public void BurstSpreadOverSeveralBusyPeriods_CountsAsOne() =>
        Run(Burst / 4, Burst / 4, Burst / 4, Burst / 4, 0, 0).ShouldBe([false, false, false, false, true, false]);

    [Fact]
    public void StartUp_IsABurst_TheFirstQuietPeriodAfterItTrims_Once()
    {
        var policy = new HeapTrimPolicy(Burst);
        policy.StartWithBurst();
        policy.BurstPending.ShouldBeTrue();
        new[] { Burst / 8, 0, 0 }.Select(policy.ShouldTrim).ShouldBe([false, true, false]);
        policy.BurstPending.ShouldBeFalse();
    }
}
