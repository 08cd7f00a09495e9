using System.Runtime.InteropServices;

namespace Pilot.Supervisor.Processes;

/// <summary>
/// Tells each <see cref="RunningProcess"/> that its leader exited, from SIGCHLD, instead of
/// <c>Process.WaitForExitAsync</c>.
/// </summary>
/// <remarks>
/// <para>Why: <c>WaitForExitAsync</c> makes each child a wait handle registered with the thread pool's wait threads (one
/// wait thread per 63 children, so 7 threads parked for 400 jobs), and each exit then crosses three threads (the
/// runtime's signal thread sets an event, a wait thread wakes and queues the Exited event, a worker runs it). A health
/// check that runs every few seconds pays that on every run.</para>
/// <para>How: the runtime's signal thread reaps its own children on SIGCHLD (marking their <c>Process</c> exited) before
/// it runs the registered SIGCHLD handlers, so the handler here only looks at <c>Process.HasExited</c> of the children
/// it watches. For a child that is a flag read under a lock, no system call. A child that exits before it is watched is
/// caught by the check in <see cref="Watch"/>.</para>
/// <para>Which ones: the AOT binary records every pid the runtime reaps (<see cref="Native.TakeReaped"/>), so a SIGCHLD
/// looks at those children only; elsewhere, or when the record overflowed, it asks every watched child (O(jobs) per
/// exit: 400 questions for each health check at 400 jobs).</para>
/// </remarks>
internal sealed class ChildExits
{
    private const int TakeBatch = 64;

    private readonly Lock _gate = new();
    private readonly Dictionary<int, RunningProcess> _watched = [];
    private PosixSignalRegistration? _sigchld;

    /// <summary>The one watcher of a Pilot process.</summary>
    public static ChildExits Shared { get; } = new();

    /// <summary>Children whose exit is still awaited.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _watched.Count;
            }
        }
    }

    /// <summary>Follows <paramref name="process"/> until <see cref="RunningProcess.TryObserveExit"/> sees it exited.</summary>
    public void Watch(RunningProcess process)
    {
        RunningProcess? earlier;
        lock (_gate)
        {
            if (_sigchld is null && !OperatingSystem.IsWindows())
            {
                _sigchld = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => CheckExited());
            }
            // A pid is reused only once its child has been reaped: a run still listed under it has exited, and its
            // SIGCHLD handler has not run yet.
            _watched.Remove(process.Pid, out earlier);
            _watched[process.Pid] = process;
        }
        earlier?.TryObserveExit();
        // It may have exited, and its SIGCHLD been handled, before it was on the list.
        if (process.TryObserveExit())
        {
            Forget(process);
        }
    }

    /// <summary>Completes every watched child that has exited; called on each SIGCHLD.</summary>
    public void CheckExited()
    {
        if (!Native.KnowsReapedChildren || !CheckReaped())
        {
            CheckAll();
        }
    }

    /// <summary>Completes every watched child that has exited, asking each one.</summary>
    public void CheckAll()
    {
        List<RunningProcess>? exited = null;
        lock (_gate)
        {
            foreach (var process in _watched.Values)
            {
                if (process.HasExited)
                {
                    (exited ??= []).Add(process);
                }
            }
            foreach (var process in exited ?? [])
            {
                _watched.Remove(process.Pid);
            }
        }
        Observe(exited);
    }

    /// <summary>Completes the watched children among the pids reaped since the last call; false when the record lost some.</summary>
    private unsafe bool CheckReaped()
    {
        var pids = stackalloc int[TakeBatch];
        while (true)
        {
            var count = Native.TakeReaped(pids, TakeBatch);
            if (count < 0)
            {
                return false;
            }
            if (count == 0)
            {
                return true;
            }
            List<RunningProcess>? exited = null;
            lock (_gate)
            {
                for (var i = 0; i < count; i++)
                {
                    if (_watched.TryGetValue(pids[i], out var process) && process.HasExited)
                    {
                        _watched.Remove(pids[i]);
                        (exited ??= []).Add(process);
                    }
                }
            }
            Observe(exited);
        }
    }

    // Outside the lock: observing an exit runs the rest of the child's monitor.
    private static void Observe(List<RunningProcess>? exited)
    {
        foreach (var process in exited ?? [])
        {
            process.TryObserveExit();
        }
    }

    private void Forget(RunningProcess process)
    {
        lock (_gate)
        {
            if (_watched.TryGetValue(process.Pid, out var listed) && listed == process)
            {
                _watched.Remove(process.Pid);
            }
        }
    }
}
