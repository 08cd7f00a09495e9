using System.Diagnostics;

namespace Pilot.Supervisor.Processes;

/// <summary>
/// A child started by <see cref="ProcessLauncher"/>: the leader of its own process group (pgid = pid, set by the shim).
/// </summary>
/// <remarks>
/// Exit status: the runtime reports a signal death as 128+signal, indistinguishable from <c>exit 128+n</c>. Pilot
/// decodes it as <see cref="ProcessExit.Signal"/> only for a signal it sent to this group itself
/// (<see cref="SignalGroup"/>, <see cref="ProcessGroupKiller"/>); a signal from elsewhere (OOM killer, an operator)
/// shows as <c>exit status 128+n</c>. <see cref="ProcessExit.ExitCode"/> is the runtime's value in both cases.
/// </remarks>
public sealed class RunningProcess : IRunningProcess
{
    private readonly Process _process;
    private readonly ManagedChildren _children;
    private readonly TaskCompletionSource<ProcessExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _leaderExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Completed by ChildExits, which may run the monitor inline (it is the signal handler's thread-pool item).
    private readonly TaskCompletionSource<int> _reaped = new();
    private int _exitObserved;
    private long _signalsSent; // bit n = signal n was sent
    private volatile bool _leaderGone;
    private volatile bool _groupGone;

    internal RunningProcess(Process process, string name, ManagedChildren children)
    {
        _process = process;
        _children = children;
        Name = name;
        Pid = process.Id;
    }

    public int Pid { get; }

    public string Name { get; }

    public Task<ProcessExit> Exited => _exited.Task;

    /// <summary>Completes with the raw exit code as soon as the leader exits, before its output is drained.</summary>
    public Task<int> LeaderExited => _leaderExited.Task;

    /// <summary>
    /// kill(-pid, signal). Until the shim has called setpgid (a few ms after start) the group does not exist yet, so
    /// the signal then goes to the pid itself. Once the leader has exited and the group is gone, this is a no-op
    /// (and stays one, so a recycled pid is never signalled).
    /// </summary>
    public void SignalGroup(int signal)
    {
        if (_groupGone || signal is < 0 or > Native.MaxSignal)
        {
            return;
        }

        if (signal > 0)
        {
            Interlocked.Or(ref _signalsSent, 1L << signal);
        }

        if (Native.Kill(-Pid, signal) == 0 || Native.LastError != Native.ESRCH)
        {
            return;
        }

        if (!_leaderGone)
        {
            _ = Native.Kill(Pid, signal);
        }
        else
        {
            _groupGone = true;
        }
    }

    /// <summary>True while any member of the group (including zombies) exists.</summary>
    public bool GroupExists => !_groupGone && ProcessGroupKiller.GroupExists(Pid);

    Task IRunningProcess.LeaderGone => LeaderExited;

    /// <summary>
    /// The leader counts until it has exited (the shim may not have called setpgid yet); after that the group does,
    /// and once it is found gone it stays gone, so a recycled pid is never taken for it.
    /// </summary>
    public bool IsGroupAlive
    {
        get
        {
            if (!_leaderGone)
            {
                return true;
            }
            if (GroupExists)
            {
                return true;
            }
            _groupGone = true;
            return false;
        }
    }

    /// <summary>True once the runtime has reaped the leader (its SIGCHLD was handled).</summary>
    internal bool HasExited
    {
        get
        {
            if (Volatile.Read(ref _exitObserved) == 1)
            {
                return true;
            }
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true; // disposed: the monitor already saw the exit
            }
        }
    }

    /// <summary>Hands the leader's exit code to the monitor once it has exited; true when it has.</summary>
    internal bool TryObserveExit()
    {
        if (!HasExited)
        {
            return false;
        }
        if (Interlocked.Exchange(ref _exitObserved, 1) == 0)
        {
            _reaped.TrySetResult(_process.ExitCode);
        }
        return true;
    }

    internal async Task MonitorAsync(ChildExits exits, Task[] pumps, TimeProvider timeProvider, TimeSpan drainTimeout)
    {
        try
        {
            exits.Watch(this);
            var code = await _reaped.Task.ConfigureAwait(false);
            _leaderGone = true;
            _children.Remove(Pid);
            _leaderExited.TrySetResult(code);

            if (pumps.Length > 0)
            {
                // A grandchild that keeps the pipe open must not hold the run forever (v3 hangs here): after the drain
                // timeout the run ends, and the pumps go on logging the grandchild's lines until it closes the pipe.
                // Most children have closed their pipes by the time they are reaped: no drain timer for those.
                var all = Task.WhenAll(pumps);
                if (all.IsCompleted || await DrainedAsync(all, timeProvider, drainTimeout).ConfigureAwait(false))
                {
                    await all.ConfigureAwait(false);
                }
            }

            // Once the group is gone its pid may be recycled: from now on SignalGroup must not reach it.
            if (!ProcessGroupKiller.GroupExists(Pid))
            {
                _groupGone = true;
            }

            _exited.TrySetResult(Decode(code));
        }
        catch (Exception ex)
        {
            _children.Remove(Pid);
            _leaderExited.TrySetException(ex);
            _exited.TrySetException(ex);
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>True when the pumps ended within <paramref name="drainTimeout"/>.</summary>
    private static async Task<bool> DrainedAsync(Task pumps, TimeProvider timeProvider, TimeSpan drainTimeout)
    {
        using var stopDelay = new CancellationTokenSource();
        var delay = Task.Delay(drainTimeout, timeProvider, stopDelay.Token);
        if (await Task.WhenAny(pumps, delay).ConfigureAwait(false) != pumps)
        {
            return false;
        }
        await stopDelay.CancelAsync().ConfigureAwait(false);
        return true;
    }

    private ProcessExit Decode(int code)
    {
        var signal = code - 128;
        return signal is > 0 and <= Native.MaxSignal && (Interlocked.Read(ref _signalsSent) & (1L << signal)) != 0
            ? new ProcessExit(code, signal)
            : new ProcessExit(code, null);
    }
}
