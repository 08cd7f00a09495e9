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
internal sealed class IdleHeapTrimmer(TimeProvider time, LogWriter log, ExecutablePages pages) : IAsyncDisposable
{
    /// <summary>How often the allocation rate is looked at.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    /// <summary>Allocation within one period that counts as a burst (an idle Pilot allocates a small fraction of it).</summary>
    public const long BurstBytes = 16L * 1024 * 1024;

    private const double Mebibyte = 1024 * 1024;

    private readonly HeapTrimPolicy _policy = new(BurstBytes);

    private ITimer? _timer;
    private long _allocated;

    /// <summary>Called once the jobs have started.</summary>
    public void Start()
    {
        _allocated = GC.GetTotalAllocatedBytes();
        _timer = time.CreateTimer(_ => Tick(), null, Period, Period);
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
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _timer, null) is { } timer)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>When to give memory back: in the first quiet period after one or more busy ones.</summary>
internal sealed class HeapTrimPolicy(long burstBytes)
{
    /// <summary>A period allocating less than this is quiet (an idle Pilot allocates far less).</summary>
    private readonly long _quietBytes = Math.Max(1, burstBytes / 16);
    private long _busyBytes;

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
