using System.Diagnostics;
using System.Globalization;

namespace Pilot.Bench;

/// <summary>
/// Service managers from Debian that keep jobs running (supervisord, s6): the figures that apply to them — start to
/// first child exec, restart of a crashing job, idle RSS with one job. A run script writes its exec time with
/// <c>date +%s%N</c>, as Pilot's jobs do in the other measurements.
/// </summary>
internal sealed class ServiceManagerPeer(string name, Func<Scratch, string, Process> start, Func<Process, double> rss, Scratch scratch) : ISubject
{
    public string Name => name;

    public static IEnumerable<ServiceManagerPeer> Available(Scratch scratch)
    {
        if (File.Exists("/usr/bin/supervisord"))
        {
            yield return new ServiceManagerPeer("supervisord", StartSupervisord, p => Bench.RssMiB(p.Id), scratch);
        }
        if (File.Exists("/usr/bin/s6-svscan"))
        {
            // s6 is a tree: s6-svscan plus one s6-supervise per service; count both.
            yield return new ServiceManagerPeer("s6", StartS6, p => Bench.RssMiB(p.Id) + Children(p.Id).Sum(c => Bench.RssMiB(c)), scratch);
        }
    }

    private static Process StartSupervisord(Scratch scratch, string script)
    {
        var conf = scratch.File("supervisord.conf");
        File.WriteAllText(conf, $"""
            [supervisord]
            nodaemon=true
            logfile=/dev/null
            pidfile={scratch.File("supervisord.pid")}
            [program:job]
            command=sh -c "{script.Replace("%", "%%", StringComparison.Ordinal)}"
            startsecs=0
            autorestart=true
            startretries=100
            """);
        return Bench.Start("/usr/bin/supervisord", "-c", conf);
    }

    private static Process StartS6(Scratch scratch, string script)
    {
        var scan = scratch.File("s6-scan");
        if (Directory.Exists(scan))
        {
            Directory.Delete(scan, recursive: true);
        }
        var service = Path.Combine(scan, "job");
        Directory.CreateDirectory(service);
        var run = Path.Combine(service, "run");
        File.WriteAllText(run, $"#!/bin/sh\nexec sh -c '{script}'\n");
        File.SetUnixFileMode(run, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return Bench.Start("/usr/bin/s6-svscan", scan);
    }

    private static IEnumerable<int> Children(int pid) =>
        File.Exists($"/proc/{pid}/task/{pid}/children")
            ? File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => int.Parse(c, CultureInfo.InvariantCulture))
            : [];

    private async Task StopAsync(Process process)
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        await Task.Delay(100); // let a killed tree release its files before the next run
    }

    public async Task<double> StartToFirstExecAsync()
    {
        var stamp = scratch.File($"{name}-first");
        File.Delete(stamp);
        var started = Bench.NowNs();
        using var process = start(scratch, $"date +%s%N > {stamp}; exec sleep 600");
        await WaitForLinesAsync(stamp, 1);
        var result = (Bench.ReadStamp(stamp) - started) / 1e6;
        await StopAsync(process);
        return result;
    }

    public async Task<double> RestartAsync()
    {
        var stamps = scratch.File($"{name}-restarts");
        File.Delete(stamps);
        using var process = start(scratch, $"date +%s%N >> {stamps}; exit 1");
        var times = await WaitForLinesAsync(stamps, 2);
        await StopAsync(process);
        return (times[1] - times[0]) / 1e6;
    }

    public async Task<double> IdleRssAsync()
    {
        using var process = start(scratch, "exec sleep 600");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var result = rss(process);
        await StopAsync(process);
        return result;
    }

    private static async Task<long[]> WaitForLinesAsync(string path, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path))
            {
                var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
                if (lines.Length >= count)
                {
                    return [.. lines.Select(l => long.Parse(l, CultureInfo.InvariantCulture))];
                }
            }
            await Task.Delay(5);
        }
        throw new TimeoutException($"{path}: fewer than {count} runs");
    }
}
