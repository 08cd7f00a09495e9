namespace Pilot.Supervisor.Processes;

/// <summary>
/// The pids Pilot started through <see cref="System.Diagnostics.Process"/> and that the runtime will reap itself
/// (the runtime owns SIGCHLD: <see cref="OrphanReaper"/> says why). <see cref="ProcessLauncher"/> adds a pid under <see cref="Gate"/> in the same critical section as
/// <c>Process.Start</c>; <see cref="OrphanReaper"/> lists and reaps children under the same lock, so it can never
/// see a fresh child before it is marked managed.
/// </summary>
public sealed class ManagedChildren
{
    private readonly HashSet<int> _pids = [];

    /// <summary>The one set a Pilot process uses, shared by every launcher and reaper unless told otherwise.</summary>
    public static ManagedChildren Shared { get; } = new();

    internal Lock Gate { get; } = new();

    public int Count
    {
        get
        {
            lock (Gate)
            {
                return _pids.Count;
            }
        }
    }

    /// <summary>Caller holds <see cref="Gate"/>.</summary>
    internal void AddLocked(int pid) => _pids.Add(pid);

    /// <summary>Caller holds <see cref="Gate"/>.</summary>
    internal bool ContainsLocked(int pid) => _pids.Contains(pid);

    /// <summary>Called once the runtime has reaped the child (its exit was observed).</summary>
    internal void Remove(int pid)
    {
        lock (Gate)
        {
            _pids.Remove(pid);
        }
    }
}
