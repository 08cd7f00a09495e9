namespace Pilot.Supervisor.Jobs;

/// <summary>
/// The timers a job's loop arms and disarms. A tick is posted to the mailbox with the generation of its arming, so
/// a tick that was already queued when its timer was disarmed or re-armed is recognised as stale and dropped.
/// </summary>
internal sealed class JobTimers(TimeProvider time, Func<JobInput, bool> post) : IDisposable
{
    private readonly Dictionary<JobTimer, (ITimer Timer, long Generation)> _armed = [];
    private long _generation;

    /// <summary>What a timer posts; the loop turns a current one into <see cref="TimerFired"/>.</summary>
    public sealed record Tick(JobTimer Timer, long Generation) : JobInput;

    public void Arm(JobTimer timer, TimeSpan due, bool periodic)
    {
        Disarm(timer);
        var generation = ++_generation;
        var tick = new Tick(timer, generation);
        _armed[timer] = (time.CreateTimer(_ => post(tick), null, due, periodic ? due : Timeout.InfiniteTimeSpan), generation);
    }

    public void Disarm(JobTimer timer)
    {
        if (_armed.Remove(timer, out var armed))
        {
            armed.Timer.Dispose();
        }
    }

    /// <summary>True when <paramref name="tick"/> comes from the timer as armed now.</summary>
    public bool IsCurrent(Tick tick) => _armed.TryGetValue(tick.Timer, out var armed) && armed.Generation == tick.Generation;

    public void Dispose()
    {
        foreach (var (timer, _) in _armed.Values)
        {
            timer.Dispose();
        }
        _armed.Clear();
    }
}
