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
/// </remarks>
internal sealed class ChildExits
{
    private readonly Lock _gate = new();
    private readonly List<RunningProcess> _watched = [];
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
        lock (_gate)
        {
            if (_sigchld is null && !OperatingSystem.IsWindows())
            {
                _sigchld = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => CheckAll());
            }
            _watched.Add(process);
        }
        // It may have exited, and its SIGCHLD been handled, before it was on the list.
        if (process.TryObserveExit())
        {
            Forget(process);
        }
    }

    /// <summary>Completes every watched child that has exited; called on each SIGCHLD.</summary>
    public void CheckAll()
    {
        List<RunningProcess>? exited = null;
        lock (_gate)
        {
            for (var i = _watched.Count - 1; i >= 0; i--)
            {
                if (_watched[i].HasExited)
                {
                    (exited ??= []).Add(_watched[i]);
                    _watched[i] = _watched[^1];
                    _watched.RemoveAt(_watched.Count - 1);
                }
            }
        }
        // Outside the lock: observing an exit runs the rest of the child's monitor.
        if (exited is not null)
        {
            foreach (var process in exited)
            {
                process.TryObserveExit();
            }
        }
    }

    private void Forget(RunningProcess process)
    {
        lock (_gate)
        {
            _watched.Remove(process);
        }
    }
}
