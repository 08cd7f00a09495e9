using Microsoft.Extensions.Hosting;
using Pilot.Supervisor.Logging;

namespace Pilot.Api.Footprint;

/// <summary>
/// The one owner of Pilot's footprint: how much memory PID 1 holds and how fast it starts, beside the application it
/// serves. Every part, in the order it acts:
/// <list type="number">
/// <item><b>Build</b> (<c>Footprint/Footprint.props</c>): the workstation GC without a background thread, a fixed 4 MiB
/// gen0 budget, gen2 compacted rather than fragmented; type data not rehydrated and a non-PIE executable. Compiled into
/// the binary, never <c>DOTNET_*</c> variables a job would inherit.</item>
/// <item><b>Thread-pool minimum</b> (set when this is built, before any job starts): each child holds pool threads
/// (output pumps, exit waits); on a 2-core container the default minimum of 2 would let a few jobs delay control-plane
/// answers until the pool grows.</item>
/// <item><b>Start-up pages</b>: <see cref="StartupSettled"/> after every hosted service has started (a one-shot run
/// has exited by then), the pages of the executable only start-up used are released (<see cref="ExecutablePages"/>).</item>
/// <item><b>Idle heap</b>: after a burst of allocation, one compacting collection gives the heap back, and the
/// executable's pages the burst touched are released again (<see cref="IdleHeapTrimmer"/>).</item>
/// </list>
/// A hosted service added after all of Pilot's others, so it starts last and stops first. Nothing of it can end Pilot:
/// the release reads <c>/proc</c>, and without one it logs once and switches itself off.
/// </summary>
internal sealed class FootprintService : IHostedService, IAsyncDisposable
{
    /// <summary>When start-up is over and its pages of the executable can go.</summary>
    public static readonly TimeSpan StartupSettled = TimeSpan.FromSeconds(1);

    /// <summary>The thread pool's minimum worker and I/O threads (a larger minimum already in force is kept).</summary>
    public const int MinimumPoolThreads = 32;

    private readonly TimeProvider _time;
    private readonly ExecutablePages _pages;
    private readonly IdleHeapTrimmer _trimmer;
    private ITimer? _startupRelease;

    public FootprintService(TimeProvider time, LogWriter log, ExecutablePages pages)
    {
        _time = time;
        _pages = pages;
        _trimmer = new IdleHeapTrimmer(time, log, _pages);
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, MinimumPoolThreads), Math.Max(io, MinimumPoolThreads));
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _startupRelease = _time.CreateTimer(static pages => ((ExecutablePages)pages!).Release(), _pages, StartupSettled, Timeout.InfiniteTimeSpan);
        _trimmer.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _startupRelease, null) is { } release)
        {
            await release.DisposeAsync().ConfigureAwait(false);
        }
        await _trimmer.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);
}
