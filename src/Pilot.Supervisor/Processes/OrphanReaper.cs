using System.Runtime.InteropServices;

namespace Pilot.Supervisor.Processes;

/// <summary>
/// Reaps orphans re-parented to Pilot without ever touching a child the runtime's <see cref="System.Diagnostics.Process"/>
/// waits for: when Pilot is PID 1 the runtime calls <c>waitpid(-1)</c> itself, and its <c>Process</c> fails fast
/// when its own <c>waitpid(pid)</c> finds the child gone, so an own <c>waitpid(-1)</c> loop would crash or race it. Not PID 1: Pilot becomes a child subreaper so orphans of its jobs come to it. A pass —
/// on SIGCHLD — lists <c>/proc/self/task/*/children</c> under the <see cref="ManagedChildren"/> lock and calls
/// <c>waitpid(pid, WNOHANG)</c> for each pid that is not managed. Never <c>waitpid(-1)</c>, never SIG_IGN. As PID 1
/// the runtime also reaps everything; the passes are then harmless.
/// </summary>
/// <remarks>
/// <para>Each SIGCHLD, and each safety poll (for a SIGCHLD that never came), first asks the kernel whether any child
/// has exited at all: one <c>waitid(P_ALL, WEXITED|WNOHANG|WNOWAIT)</c>, which reaps nothing and sees every thread's
/// children. The pass runs only when one has (an exited child of the runtime's still counts, so an orphan behind it is
/// never missed). The SIGCHLD handler runs after the runtime has reaped its own children, so the exit of a job or a
/// health check wakes no thread here at all (the pass reads one file per thread and parses every child's pid), and an
/// idle Pilot's poll costs one system call whatever the number of jobs; the reaper thread times its own poll, so no
/// timer wakes a thread-pool thread to wake it. In the AOT binary the SIGCHLD handler does not even ask: the runtime's
/// walk has just asked the same question, and reaped-children.c kept its answer (<see cref="OrphanLeftBehind"/>).</para>
/// <para>The safety poll comes <c>pollInterval</c> (1 s) after a wake-up by SIGCHLD and doubles its wait after each
/// poll that had none before it, up to <c>maxPollInterval</c> (64 s): an idle Pilot wakes for it about once a minute,
/// and an orphan's exit re-arms the 1 s poll, when a lost SIGCHLD is likeliest to matter. The
/// kernel's <c>waitid</c> walks every child, so at 400 jobs a poll costs ≈0.3 ms.</para>
/// <para>Every child of this process must come from <see cref="ProcessLauncher"/> (sharing the same <see cref="ManagedChildren"/>):
/// a child started any other way looks like an orphan, gets reaped here, and the runtime then fails fast on ECHILD.</para>
/// <para>The passes run on one dedicated thread that blocks between them, and a pass allocates nothing
/// (<see cref="ChildPidReader"/>): the safety poll runs for the life of the container, and garbage made while idle
/// is what a PID 1 beside the application must not produce.</para>
/// </remarks>
public sealed class OrphanReaper : IAsyncDisposable
{
    private readonly ManagedChildren _children;
    private readonly TimeSpan _pollInterval;
    private readonly TimeSpan _maxPollInterval;
    // No spinning before it blocks (a SemaphoreSlim spins, ≈70 sched_yield calls per wake-up): the reaper waits for
    // seconds at a time, never for microseconds.
    private readonly ManualResetEventSlim _wake = new(initialState: false, spinCount: 0);
    private readonly ChildPidReader _reader = new();
    private PosixSignalRegistration? _sigchld;
    private Thread? _thread;
    private volatile bool _stopping;
    private long _reaped;
    private long _passes;
    private long _safetyPolls;
    private bool _setSubreaper;

    public OrphanReaper(ManagedChildren? children = null, TimeSpan? pollInterval = null, TimeSpan? maxPollInterval = null)
    {
        _children = children ?? ManagedChildren.Shared;
        _pollInterval = pollInterval ?? TimeSpan.FromSeconds(1);
        _maxPollInterval = maxPollInterval ?? _pollInterval * 64;
    }

    /// <summary>Orphans reaped so far.</summary>
    public long OrphansReaped => Interlocked.Read(ref _reaped);

    /// <summary>Reaping passes done so far (the first, then wake-ups that found an exited child).</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>Safety polls done so far (each a pass only when some child has exited).</summary>
    public long SafetyPolls => Interlocked.Read(ref _safetyPolls);

    /// <summary>True when this process is PID 1 (no subreaper flag needed).</summary>
    public static bool IsPid1 => Native.GetPid() == 1;

    /// <summary>True when this process is marked a child subreaper (or is PID 1).</summary>
    public bool IsSubreaper { get; private set; }

    public void Start()
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException("The reaper is already running.");
        }

        if (IsPid1)
        {
            IsSubreaper = true;
        }
        else
        {
            IsSubreaper = Native.Prctl(Native.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
            _setSubreaper = IsSubreaper;
        }

        // The handler only wakes the loop; the context is not cancelled, so the runtime still reaps its own children.
        // It runs after the runtime has reaped them: a job's or check's exit leaves no exited child behind, so the
        // loop is woken only for an orphan (or a child the runtime has not reaped yet).
        if (!OperatingSystem.IsWindows())
        {
            _sigchld = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ =>
            {
                if (OrphanLeftBehind())
                {
                    Wake();
                }
            });
        }

        // A small stack: the loop holds a 512-byte read buffer and a few locals.
        _thread = new Thread(Loop, maxStackSize: 256 * 1024) { IsBackground = true, Name = "Pilot reaper" };
        _thread.Start();
    }

    /// <summary>Asks for a pass now (coalesced).</summary>
    public void Wake()
    {
        try
        {
            _wake.Set();
        }
        catch (ObjectDisposedException)
        {
            // SIGCHLD racing with DisposeAsync.
        }
    }

    /// <summary>One pass: reaps every exited orphan; returns how many it reaped. Allocates nothing.</summary>
    public int ReapOnce()
    {
        var reaped = 0;
        lock (_children.Gate)
        {
            var count = _reader.Read();
            var pids = _reader.Pids;
            for (var i = 0; i < count; i++)
            {
                var pid = pids[i];
                if (!_children.ContainsLocked(pid) && Native.WaitPid(pid, out _, Native.WNOHANG) == pid)
                {
                    reaped++;
                }
            }
        }

        Interlocked.Add(ref _reaped, reaped);
        Interlocked.Increment(ref _passes);
        return reaped;
    }

    /// <summary>Direct children of every thread of this process (children are per forking thread on Linux).</summary>
    public static IReadOnlyList<int> ListChildren()
    {
        using var reader = new ChildPidReader();
        var count = reader.Read();
        return reader.Pids[..count].ToArray();
    }

    /// <summary>
    /// True when some child of this process has exited and waits to be reaped (managed or not); reaps nothing.
    /// Allocates nothing.
    /// </summary>
    public static unsafe bool AnyChildExited()
    {
        byte* info = stackalloc byte[Native.SigInfoBytes];
        new Span<byte>(info, Native.SigInfoBytes).Clear();
        return Native.WaitId(Native.P_ALL, 0, info, Native.WEXITED | Native.WNOHANG | Native.WNOWAIT) == 0
            && *(int*)(info + Native.SigInfoPidOffset) != 0;
    }

    /// <summary>
    /// After the runtime's SIGCHLD walk: true when it left an exited child unreaped (an orphan, or a child of its own
    /// it has not reaped yet). The AOT binary reads what the runtime's own <c>waitid</c> found (reaped-children.c)
    /// instead of walking every child again; elsewhere, <see cref="AnyChildExited"/>.
    /// </summary>
    private static bool OrphanLeftBehind() =>
        Native.KnowsReapedChildren ? Native.ExitedChildSeen() != 0 : AnyChildExited();

    /// <summary>The wait before the next safety poll: the first after a SIGCHLD, doubled after each quiet one, up to the longest.</summary>
    public static TimeSpan NextPollInterval(TimeSpan current, bool woken, TimeSpan first, TimeSpan longest) =>
        woken ? first : TimeSpan.FromTicks(Math.Min(current.Ticks * 2, Math.Max(first.Ticks, longest.Ticks)));

    private void Loop()
    {
        var (first, safetyPoll, wait) = (true, false, _pollInterval);
        while (!_stopping)
        {
            if (safetyPoll)
            {
                Interlocked.Increment(ref _safetyPolls);
            }
            // The runtime reaps its own children on SIGCHLD before the registered handlers run, so most wake-ups find no
            // exited child at all, and the pass (one file per thread, every child's pid parsed) is skipped.
            if (first || AnyChildExited())
            {
                _ = ReapOnce();
            }
            first = false;
            var woken = _wake.Wait(wait);
            safetyPoll = !woken;
            wait = NextPollInterval(wait, woken, _pollInterval, _maxPollInterval);
            // Reset before the pass: a SIGCHLD during it sets the event again, and is not lost.
            _wake.Reset();
        }
    }

    public ValueTask DisposeAsync()
    {
        _sigchld?.Dispose();
        _stopping = true;
        if (_thread is not null)
        {
            Wake();
            _thread.Join();
        }

        if (_setSubreaper)
        {
            _ = Native.Prctl(Native.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
            _setSubreaper = false;
        }

        _wake.Dispose();
        _reader.Dispose();
        return ValueTask.CompletedTask;
    }
}
