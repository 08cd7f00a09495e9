using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pilot.Bench;

/// <summary>
/// What one health check costs Pilot: <see cref="Jobs"/> jobs each checked every second, by <c>exec: "/bin/true"</c>
/// (a child through the exec shim) or by <c>http</c> GET of a local server (no process). The figure is the CPU time of
/// Pilot and the children it reaped (/proc utime+stime+cutime+cstime) over a window, ÷ the checks run in it, counted
/// from Pilot's debug log (<c>check.… exited without error</c>). The HTTP server's own CPU is not counted: it is the app's.
/// </summary>
internal static class HealthCheckCost
{
    public const int Jobs = 10;
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(3), Window = TimeSpan.FromSeconds(10);

    public static async Task<double> CpuPerCheckAsync(SupervisorSubject subject, Scratch scratch, bool http)
    {
        using var server = http ? new OkServer() : null;
        var prefix = string.Concat(subject.Name.Where(char.IsAsciiLetterOrDigit)) + (http ? "-http" : "-exec");
        var log = scratch.File(prefix + ".log");
        var config = scratch.File(prefix + ".json5");
        File.Delete(log);
        var check = server is null ? "exec: \"/bin/true\"" : $"http: \"http://127.0.0.1:{server.Port}/\"";
        var jobs = string.Join(", ", Enumerable.Range(0, Jobs).Select(i => $"{{ name: \"svc{i}\", exec: \"sleep 600\", health: {{ {check}, interval: 1, ttl: 10 }} }}"));
        await File.WriteAllTextAsync(config,
            $"{{ control: {{ socket: \"{scratch.File(prefix + ".sock")}\" }}, logging: {{ level: \"DEBUG\", output: \"{log}\" }}, jobs: [ {jobs} ] }}");
        using var process = Bench.Start(subject.Binary, "-config", config);
        await Task.Delay(Warmup);
        var (cpu0, checks0) = (CpuMs(process.Id), Checks(log));
        await Task.Delay(Window);
        var (cpu1, checks1) = (CpuMs(process.Id), Checks(log));
        await Bench.StopAsync(process);
        return checks1 > checks0 ? (cpu1 - cpu0) / (checks1 - checks0) : throw new InvalidOperationException($"{subject.Name}: no health check ran");
    }

    /// <summary>utime + stime + cutime + cstime of <paramref name="pid"/>, in ms (clock ticks of 10 ms).</summary>
    private static double CpuMs(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After the command: state is field 3, utime 14 … cstime 17 (1-based), so indexes 11-14 here.
        return fields.Skip(11).Take(4).Sum(f => long.Parse(f, CultureInfo.InvariantCulture)) * 10.0;
    }

    private static int Checks(string log)
    {
        using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var count = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Contains("check.svc", StringComparison.Ordinal) && line.Contains("exited without error", StringComparison.Ordinal))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>A minimal HTTP/1.1 server answering 200 to everything, keeping connections open (as most apps do).</summary>
    private sealed class OkServer : IDisposable
    {
        private static readonly byte[] Answer = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();

        public OkServer()
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = AcceptAsync();
        }

        public int Port { get; }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    _ = ServeAsync(await _listener.AcceptTcpClientAsync(_stop.Token));
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    using var reader = new StreamReader(client.GetStream(), Encoding.ASCII, leaveOpen: true);
                    while (!_stop.IsCancellationRequested)
                    {
                        // One request: lines up to the empty one.
                        var line = await reader.ReadLineAsync(_stop.Token);
                        if (line is null)
                        {
                            return;
                        }
                        while (line is { Length: > 0 })
                        {
                            line = await reader.ReadLineAsync(_stop.Token);
                        }
                        await client.GetStream().WriteAsync(Answer, _stop.Token);
                    }
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
                {
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
