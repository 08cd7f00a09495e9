namespace Pilot.Supervisor.Processes;

/// <summary>
/// Signals process groups and waits for them to be gone — whether or not the leader is alive, so a TERM-ignoring
/// grandchild is seen. It decides nothing: when a job's group gets SIGKILL is the job machine's step (its kill timer,
/// see JobMachine.Terminations.cs); here are only the signal and the wait. kill(-pgid) reaches members that outlive the leader.
/// </summary>
public static class ProcessGroupKiller
{
    /// <summary>How long a group is waited for after SIGKILL (only a process stuck in the kernel takes longer); then it is given up.</summary>
    public static readonly TimeSpan KillWait = TimeSpan.FromSeconds(5);

    /// <summary>How often the group is checked once its leader is gone and other members remain.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>True while any process (zombies included) is in group <paramref name="pgid"/>.</summary>
    public static bool GroupExists(int pgid) => Native.Kill(-pgid, 0) == 0 || Native.LastError != Native.ESRCH;

    /// <summary>SIGKILL to the group now (end of a stop window), then wait up to <paramref name="killWait"/> (default <see cref="KillWait"/>) for it to be gone.</summary>
    public static async Task KillAsync(IRunningProcess process, TimeProvider? timeProvider = null, TimeSpan? killWait = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (!process.IsGroupAlive)
        {
            return;
        }
        process.SignalGroup(SignalNames.SIGKILL);
        _ = await WaitGoneAsync(process, killWait ?? KillWait, timeProvider ?? TimeProvider.System, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for the leader's exit (an event, so a fake clock only sees the <paramref name="limit"/> timer), then polls
    /// the rest of the group. False when the limit passed first; <see cref="Timeout.InfiniteTimeSpan"/> waits until it
    /// is gone or <paramref name="cancellationToken"/> is cancelled (which throws).
    /// </summary>
    public static async Task<bool> WaitGoneAsync(IRunningProcess process, TimeSpan limit, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(process);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var deadline = Task.Delay(limit, time, stop.Token);
        var gone = GoneAsync(process, time, stop.Token);
        var first = await Task.WhenAny(gone, deadline).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return first == gone && !process.IsGroupAlive;
    }

    private static async Task GoneAsync(IRunningProcess process, TimeProvider time, CancellationToken cancellationToken)
    {
        await process.LeaderGone.WaitAsync(cancellationToken).ConfigureAwait(false);
        while (process.IsGroupAlive)
        {
            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
