namespace Pilot.Supervisor.Discovery;

/// <summary>Capped exponential backoff for retrying Consul: initial, 2×, 4×… up to the cap.</summary>
public sealed record Backoff(TimeSpan Initial, TimeSpan Max)
{
    public static readonly Backoff Default = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));

    /// <summary>The delay before retry number <paramref name="attempt"/> (0-based).</summary>
    public TimeSpan Next(int attempt) => NextBackoff(attempt, Initial, Max);

    /// <summary>Pure: <paramref name="initial"/> × 2^<paramref name="attempt"/>, never above <paramref name="max"/>.</summary>
    public static TimeSpan NextBackoff(int attempt, TimeSpan initial, TimeSpan max)
    {
        if (attempt <= 0 || initial <= TimeSpan.Zero)
        {
            return initial < max ? initial : max;
        }
        // Past 2^30 the product overflows long before any sane cap; the cap wins.
        var factor = attempt >= 30 ? double.MaxValue : Math.Pow(2, attempt);
        var ticks = initial.Ticks * factor;
        return ticks >= max.Ticks ? max : TimeSpan.FromTicks((long)ticks);
    }
}
