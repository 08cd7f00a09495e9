namespace Pilot.Supervisor.Processes;

/// <summary>
/// The one home of stopping a process group: SIGTERM, then SIGKILL if any member is still there after the grace period
/// — whether or not the leader is alive, so a TERM-ignoring grandchild never outlives its job — then a bounded wait
/// until the whole group (not just the leader) is gone. kill(-pgid) reaches members that outlive the leader.
/// </summary>
public static class ProcessGroupKiller
{
    /// <summary>How long to wait for a group to disappear after SIGKILL (only a process stuck in the kernel takes longer).</summary>
    public static readonly TimeSpan DefaultKillWait = TimeSpan.FromSeconds(5);

    /// <summary>How often the group is checked once its leader is gone and other members remain.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>True while any process (zombies included) is in group <paramref name="pgid"/>.</summary>
    public static bool GroupExists(int pgid) => Native.Kill(-pgid, 0) == 0 || Native.LastError != Native.ESRCH;

    /// <summary>
    /// <paramref name="stopSignal"/> (SIGTERM unless the job's <c>stopSignal</c> says otherwise) to the group, wait up
    /// to <paramref name="gracePeriod"/> for it to disappear, then SIGKILL and wait up to <paramref name="killWait"/>
    /// (default <see cref="DefaultKillWait"/>) more. <paramref name="beforeKill"/> runs just before SIGKILL is sent.
    /// Returns true if SIGKILL had to be sent.
    /// </summary>
    public static async Task<bool> TerminateAsync(IRunningProcess process, TimeSpan gracePeriod, TimeProvider? timeProvider = null,
        TimeSpan? killWait = null, Action? beforeKill = null, CancellationToken cancellationToken = default, int stopSignal = SignalNames.SIGTERM)
    {
        ArgumentNullException.ThrowIfNull(process);
        var time = timeProvider ?? TimeProvider.System;
        if (!process.IsGroupAlive)
        {
            return false;
        }

        process.SignalGroup(stopSignal);
        if (await WaitGoneAsync(process, gracePeriod, time, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        beforeKill?.Invoke();
        await KillAsync(process, time, killWait, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>SIGKILL to the group now (end of a stop window), then wait up to <paramref name="killWait"/> for it to be gone.</summary>
    public static async Task KillAsync(IRunningProcess process, TimeProvider? timeProvider = null, TimeSpan? killWait = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (!process.IsGroupAlive)
        {
            return;
        }
        process.SignalGroup(SignalNames.SIGKILL);
        _ = await WaitGoneAsync(process, killWait ?? DefaultKillWait, timeProvider ?? TimeProvider.System, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for the leader's exit (an event, so a fake clock only sees the <paramref name="limit"/> timer), then polls
    /// the rest of the group. False when the limit passed first.
    /// </summary>
    private static async Task<bool> WaitGoneAsync(IRunningProcess process, TimeSpan limit, TimeProvider time, CancellationToken cancellationToken)
    {
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
