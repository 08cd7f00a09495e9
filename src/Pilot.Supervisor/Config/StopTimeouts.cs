namespace Pilot.Supervisor.Config;

/// <summary>
/// Every rule about how long stopping may take, in one place. A job's budget runs from its <c>stopping</c> event: the
/// wait for its stopping-dependents and the SIGTERM grace of its processes share it, and SIGKILL follows when it ends.
/// </summary>
public static class StopTimeouts
{
    /// <summary>v3's default for the global <c>stopTimeout</c>.</summary>
    public static readonly TimeSpan DefaultGlobal = TimeSpan.FromSeconds(5);

    /// <summary>The global window from the file's integer seconds: absent or 0 → 5 s; negative → no wait (v3).</summary>
    public static TimeSpan Global(long? seconds) => seconds switch
    {
        null or 0 => DefaultGlobal,
        < 0 => TimeSpan.Zero,
        { } s => Validation.V3Rules.Seconds(s),
    };

    /// <summary>A job's stop budget: its own <c>stopTimeout</c> when positive, else the global one in force when it stops.</summary>
    public static TimeSpan For(TimeSpan? jobStopTimeout, TimeSpan global) =>
        jobStopTimeout is { } own && own > TimeSpan.Zero ? own : global;
}
