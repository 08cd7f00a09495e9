using System.Globalization;
using System.Runtime;
using Pilot.Supervisor.Logging;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Api.Footprint;

/// <summary>
/// For a PID 1 that idles for hours after a burst of control-plane requests (part of <see cref="FootprintService"/>):
/// the GC only collects (and gives memory back) when something allocates, so after a burst the heap would keep its
/// peak size. Once a burst is over, one aggressive compacting collection returns the memory to the OS, and the
/// executable's pages the burst touched are released again.
/// </summary>
/// <remarks>
/// It looks only while there is something to look at: once a period is quiet with no burst behind it, the timer stops
/// (an idle Pilot allocates nothing, so a tick every 5 s would be its only wake-up besides the reaper's), and the next
/// garbage collection — which only allocation brings — starts it again. The allocation counted from its last tick, so
/// the burst that caused the collection is not missed.
/// </remarks>
internal sealed class IdleHeapTrimmer(TimeProvider time, LogWriter log, ExecutablePages pages) : IAsyncDisposable
{
    /// <summary>How often the allocation rate is looked at.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    /// <summary>Allocation within one period that counts as a burst (an idle Pilot allocates a small fraction of it).</summary>
    public const long BurstBytes = 16L * 1024 * 1024;

    private const double Mebibyte = 1024 * 1024;

    private readonly HeapTrimPolicy _policy = new(BurstBytes);

    private readonly Lock _gate = new();
    private ITimer? _timer;
    private long _allocated;
    // Under _gate: the timer ticks (else it waits for a collection to start it).
    private bool _ticking;
    private volatile bool _disposed;

    /// <summary>The timer ticks (false while it waits for a collection).</summary>
    internal bool IsTicking
    {
        get
        {
            lock (_gate)
            {
                return _ticking;
            }
        }
    }

    /// <summary>Called once the jobs have started.</summary>
    public void Start()
    {
        _allocated = GC.GetTotalAllocatedBytes();
        // Start-up is the first burst, however little it allocated (starting a job allocates little since children are
        // started without copying the environment): the first quiet period after it gives the heap back.
        _policy.StartWithBurst();
        lock (_gate)
        {
            _timer = time.CreateTimer(_ => Tick(), null, Period, Period);
            _ticking = true;
        }
        _ = new CollectionSentinel(this);
    }

    /// <summary>A collection happened (so something allocated): ticks again if stopped. False once disposed.</summary>
    internal bool OnCollectionFromSentinel()
    {
        if (_disposed)
        {
            return false;
        }
        lock (_gate)
        {
            if (!_ticking && _timer is { } timer)
            {
                _ticking = true;
                _ = timer.Change(Period, Period);
            }
        }
        return true;
    }

    /// <summary>Quiet, nothing pending: stops ticking until the next collection.</summary>
    private void Rest()
    {
        lock (_gate)
        {
            if (_ticking && _timer is { } timer)
            {
                _ticking = false;
                _ = timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void Tick()
    {
        var allocated = GC.GetTotalAllocatedBytes();
        var inPeriod = allocated - _allocated;
        _allocated = allocated;
        if (_policy.ShouldTrim(inPeriod))
        {
            var before = Environment.WorkingSet;
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            _ = pages.Release();
            log.Write(LogLevel.Debug, string.Create(CultureInfo.InvariantCulture,
                $"burst over: heap compacted, RSS {before / Mebibyte:0.0} -> {Environment.WorkingSet / Mebibyte:0.0} MiB"));
            _allocated = GC.GetTotalAllocatedBytes();
        }
        if (!_policy.BurstPending)
        {
            Rest();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        ITimer? timer;
        lock (_gate)
        {
            (timer, _timer) = (_timer, null);
        }
        if (timer is not null)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Lives until the next garbage collection finds it unreachable; its finalizer tells the trimmer and leaves a new one
/// behind (a re-registered one would be promoted, and only a full collection would find it again).
/// </summary>
internal sealed class CollectionSentinel(IdleHeapTrimmer trimmer)
{
    ~CollectionSentinel()
    {
        if (trimmer.OnCollectionFromSentinel())
        {
            _ = new CollectionSentinel(trimmer);
        }
    }
}

/// <summary>When to give memory back: in the first quiet period after one or more busy ones.</summary>
internal sealed class HeapTrimPolicy(long burstBytes)
{
    /// <summary>A period allocating less than this is quiet (an idle Pilot allocates far less).</summary>
    private readonly long _quietBytes = Math.Max(1, burstBytes / 16);
    private long _busyBytes;

    /// <summary>Busy periods have been counted and no quiet one has come since (a trim may be due).</summary>
    public bool BurstPending => _busyBytes > 0;

    /// <summary>Counts what came before as a burst: the next quiet period trims.</summary>
    public void StartWithBurst() => _busyBytes = Math.Max(_busyBytes, burstBytes);

    /// <summary>
    /// Called once per period with the bytes allocated in it; true when a collection should run now. Busy periods add
    /// up, so a burst spread thin over several periods (a slow or loaded machine) still counts as one.
    /// </summary>
    public bool ShouldTrim(long allocatedInPeriod)
    {
        if (allocatedInPeriod >= _quietBytes)
        {
            _busyBytes += allocatedInPeriod;
            return false;
        }
        var trim = _busyBytes >= burstBytes;
        _busyBytes = 0;
        return trim;
    }
}
