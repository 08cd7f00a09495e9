using System.Globalization;
using System.Runtime.InteropServices;

namespace Pilot.Supervisor.Processes;

/// <summary>
/// Reaps orphans re-parented to Pilot without ever touching a child the runtime's <see cref="System.Diagnostics.Process"/>
/// waits for (DESIGN §2.3). Not PID 1: Pilot becomes a child subreaper so orphans of its jobs come to it. A pass —
/// on SIGCHLD and every <c>pollInterval</c> (1 s) — lists <c>/proc/self/task/*/children</c> under the
/// <see cref="ManagedChildren"/> lock and calls <c>waitpid(pid, WNOHANG)</c> for each pid that is not managed.
/// Never <c>waitpid(-1)</c>, never SIG_IGN. As PID 1 the runtime also reaps everything; the passes are then harmless.
/// </summary>
/// <remarks>
/// Every child of this process must come from <see cref="ProcessLauncher"/> (sharing the same <see cref="ManagedChildren"/>):
/// a child started any other way looks like an orphan, gets reaped here, and the runtime then fails fast on ECHILD.
/// </remarks>
public sealed class OrphanReaper : IAsyncDisposable
{
    private readonly ManagedChildren _children;
    private readonly TimeProvider _time;
    private readonly TimeSpan _pollInterval;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private PosixSignalRegistration? _sigchld;
    private Task? _loop;
    private long _reaped;
    private long _passes;
    private bool _setSubreaper;

    public OrphanReaper(ManagedChildren? children = null, TimeProvider? timeProvider = null, TimeSpan? pollInterval = null)
    {
        _children = children ?? ManagedChildren.Shared;
        _time = timeProvider ?? TimeProvider.System;
        _pollInterval = pollInterval ?? TimeSpan.FromSeconds(1);
    }

    /// <summary>Orphans reaped so far.</summary>
    public long OrphansReaped => Interlocked.Read(ref _reaped);

    /// <summary>Reaping passes done so far (SIGCHLD wake-ups and polls).</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>True when this process is PID 1 (no subreaper flag needed).</summary>
    public static bool IsPid1 => Native.GetPid() == 1;

    /// <summary>True when this process is marked a child subreaper (or is PID 1).</summary>
    public bool IsSubreaper { get; private set; }

    public void Start()
    {
        if (_loop is not null)
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
        if (!OperatingSystem.IsWindows())
        {
            _sigchld = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => Wake());
        }

        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Asks for a pass now (coalesced).</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    /// <summary>One pass: reaps every exited orphan; returns how many it reaped.</summary>
    public int ReapOnce()
    {
        var reaped = 0;
        lock (_children.Gate)
        {
            foreach (var pid in ListChildren())
            {
                if (_children.ContainsLocked(pid))
                {
                    continue;
                }

                if (Native.WaitPid(pid, out _, Native.WNOHANG) == pid)
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
        var pids = new List<int>();
        IEnumerable<string> tasks;
        try
        {
            tasks = Directory.GetDirectories("/proc/self/task");
        }
        catch (IOException)
        {
            return pids;
        }

        foreach (var task in tasks)
        {
            string text;
            try
            {
                text = File.ReadAllText(Path.Combine(task, "children"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // the thread ended
            }

            foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    pids.Add(pid);
                }
            }
        }

        return pids;
    }

    private async Task LoopAsync()
    {
        var stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            _ = ReapOnce();
            using var poll = new CancellationTokenSource(_pollInterval, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(poll.Token, stop);
            try
            {
                await _wake.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Poll interval elapsed, or stopping (checked by the loop).
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _sigchld?.Dispose();
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        if (_setSubreaper)
        {
            _ = Native.Prctl(Native.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
            _setSubreaper = false;
        }

        _stop.Dispose();
        _wake.Dispose();
    }
}
