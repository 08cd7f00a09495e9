namespace Pilot.Supervisor.Processes;

/// <summary>
/// Stops a whole process group: SIGTERM, then SIGKILL if any member is still there after the grace period.
/// Works on the group, so it also reaches members that outlive the leader (kill(-pgid) works while any member lives).
/// </summary>
public static class ProcessGroupKiller
{
    /// <summary>How often the group is checked while waiting for it to disappear.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>True while any process (zombies included) is in group <paramref name="pgid"/>.</summary>
    public static bool GroupExists(int pgid) => Native.Kill(-pgid, 0) == 0 || Native.LastError != Native.ESRCH;

    /// <summary>
    /// SIGTERM to the group, wait up to <paramref name="gracePeriod"/> for it to disappear, then SIGKILL and wait up
    /// to <paramref name="killWait"/> (default 5 s) more. Returns true if SIGKILL had to be sent.
    /// </summary>
    public static Task<bool> TerminateAsync(IRunningProcess process, TimeSpan gracePeriod, TimeProvider? timeProvider = null,
        TimeSpan? killWait = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(process);
        // Right after start the shim may not have called setpgid yet: then the leader alone counts as the group.
        Func<bool> leaderAlive = process is RunningProcess running
            ? () => !running.LeaderExited.IsCompleted
            : () => !process.Exited.IsCompleted;
        return TerminateAsync(() => leaderAlive() || GroupExists(process.Pid), process.SignalGroup, gracePeriod, timeProvider,
            killWait, cancellationToken);
    }

    /// <summary>The same for a bare process group id.</summary>
    public static Task<bool> TerminateAsync(int pgid, TimeSpan gracePeriod, TimeProvider? timeProvider = null,
        TimeSpan? killWait = null, CancellationToken cancellationToken = default) =>
        TerminateAsync(() => GroupExists(pgid), signal => _ = Native.Kill(-pgid, signal), gracePeriod, timeProvider, killWait, cancellationToken);

    private static async Task<bool> TerminateAsync(Func<bool> exists, Action<int> send, TimeSpan gracePeriod, TimeProvider? timeProvider,
        TimeSpan? killWait, CancellationToken cancellationToken)
    {
        var time = timeProvider ?? TimeProvider.System;
        if (!exists())
        {
            return false;
        }

        send(SignalNames.SIGTERM);
        if (await WaitGoneAsync(exists, gracePeriod, time, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        send(SignalNames.SIGKILL);
        _ = await WaitGoneAsync(exists, killWait ?? TimeSpan.FromSeconds(5), time, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static async Task<bool> WaitGoneAsync(Func<bool> exists, TimeSpan limit, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (exists())
        {
            if (time.GetElapsedTime(started) >= limit)
            {
                return false;
            }

            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }
}
