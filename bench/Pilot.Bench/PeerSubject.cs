using System.Diagnostics;

namespace Pilot.Bench;

/// <summary>A one-child init from Debian (tini, dumb-init) running the same commands.</summary>
internal sealed class PeerSubject(string name, string[] prefix, Scratch scratch) : ISubject
{
    public string Name => name;

    public static IEnumerable<PeerSubject> Available(Scratch scratch)
    {
        if (File.Exists("/usr/bin/tini"))
        {
            // -s: child subreaper, so orphans reparent to tini as they do to Pilot.
            yield return new PeerSubject("tini", ["/usr/bin/tini", "-s", "--"], scratch);
        }
        if (File.Exists("/usr/bin/dumb-init"))
        {
            yield return new PeerSubject("dumb-init", ["/usr/bin/dumb-init"], scratch);
        }
    }

    private Process Run(params string[] command) => Bench.Start(prefix[0], [.. prefix.Skip(1), .. command]);

    public async Task<double> StartToFirstExecAsync()
    {
        var stamp = scratch.File($"{name}-first");
        var started = Bench.NowNs();
        using var peer = Run("sh", "-c", $"date +%s%N > {stamp}");
        await peer.WaitForExitAsync();
        return (Bench.ReadStamp(stamp) - started) / 1e6;
    }

    public async Task<double> TrueRunAsync()
    {
        var watch = Stopwatch.StartNew();
        using var peer = Run("/bin/true");
        await peer.WaitForExitAsync();
        return watch.Elapsed.TotalMilliseconds;
    }

    public Task<double> TrueRunCpuAsync() => Bench.CpuOfAsync(TrueRunAsync);

    public async Task<double> OrphanStormAsync()
    {
        var stamp = scratch.File($"{name}-storm");
        File.Delete(stamp);
        using var peer = Run("sh", "-c", Bench.StormScript(stamp).Replace("\\\"", "\"", StringComparison.Ordinal));
        var elapsed = await Bench.WaitNoZombiesAsync(peer.Id, stamp);
        await Bench.StopAsync(peer);
        return elapsed;
    }

    public async Task<double> IdleRssAsync()
    {
        using var peer = Run("sleep", "600");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var rss = Bench.RssMiB(peer.Id);
        await Bench.StopAsync(peer);
        return rss;
    }
}
