using Pilot.Supervisor.Discovery;
using Shouldly;
using Xunit;

namespace Pilot.Supervisor.Tests.Discovery;

public sealed class BackoffTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(4, 16)]
    [InlineData(5, 30)]
    [InlineData(40, 30)]
    [InlineData(int.MaxValue, 30)]
    public void Backoff_NextBackoff_DoublesUpToTheCap(int attempt, int seconds)
    {
        Backoff.NextBackoff(attempt, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30)).ShouldBe(TimeSpan.FromSeconds(seconds));
    }

    [Fact]
    public void Backoff_NextBackoff_NeverExceedsCapEvenWhenInitialDoes()
    {
        Backoff.NextBackoff(0, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2)).ShouldBe(TimeSpan.FromSeconds(2));
        new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250)).Next(3).ShouldBe(TimeSpan.FromMilliseconds(250));
    }
}
