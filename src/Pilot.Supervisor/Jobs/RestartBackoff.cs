using Pilot.Supervisor.Config;

namespace Pilot.Supervisor.Jobs;

/// <summary>One backoff decision: the delay before the restart, and the undisturbed delay the next one grows from.</summary>
public readonly record struct BackoffStep(TimeSpan Base, TimeSpan Delay, bool Reset);

/// <summary>Pure <c>restartBackoff</c> policy (Pebble's backoff-delay/factor/limit, with jitter and a reset).</summary>
public static class RestartBackoff
{
    /// <summary>
    /// The delay before the next restart. The first restart, and the first after a run that lasted at least
    /// <c>resetAfter</c>, waits <c>initial</c>; each later one waits <c>factor</c> times the previous, at most <c>max</c>.
    /// Jitter spreads the delay uniformly over ±<c>jitter</c> of it; <paramref name="chance"/> is a number in [0, 1)
    /// (0.5 = no spread), so the function stays pure.
    /// </summary>
    public static BackoffStep Next(RestartBackoffConfig config, TimeSpan? previousBase, TimeSpan lastRun, double chance)
    {
        var reset = previousBase is null || lastRun >= config.ResetAfter;
        var next = reset ? config.Initial : Grow(previousBase!.Value, config.Factor, config.Max);
        var spread = 1 + config.Jitter * (2 * Math.Clamp(chance, 0, 1) - 1);
        return new BackoffStep(next, TimeSpan.FromTicks((long)(next.Ticks * spread)), reset);
    }

    private static TimeSpan Grow(TimeSpan previous, double factor, TimeSpan max)
    {
        var grown = previous.Ticks * factor;
        return grown >= max.Ticks ? max : TimeSpan.FromTicks((long)grown);
    }
}
