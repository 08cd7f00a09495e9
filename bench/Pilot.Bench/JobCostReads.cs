using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pilot.Bench;

/// <summary>
/// What reading every job's cost from /proc costs (issue 27, item 3), with <see cref="Jobs"/> idle jobs: the answer time
/// and Pilot's CPU per <c>GET /v3/status</c> (which reads it) and per <c>/metrics</c> scrape (which reads it in a
/// before-collect callback), and Pilot's CPU while nobody asks (it reads nothing then). <c>--only cost</c>.
/// </summary>
internal static class JobCostReads
{
    public const int Jobs = 400;
    private const int Requests = 20;
    private static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(10);

    public static async Task MeasureAsync(ResultTable table, IReadOnlyList<SupervisorSubject> pilots)
    {
        foreach (var pilot in pilots)
        {
            var port = ControlPlaneLoad.FreePort();
            using var process = pilot.Start(SupervisorSubject.SleepJobs(Jobs), $"telemetry: {{ port: {port}, interfaces: [\"static:127.0.0.1\"] }}, ");
            try
            {
                await ControlPlaneLoad.WaitReadyAsync(pilot.SocketPath);
                var control = new UnixDomainSocketEndPoint(pilot.SocketPath);
                var telemetry = new IPEndPoint(IPAddress.Loopback, port);
                var watch = Stopwatch.StartNew();
                while (CountOf(await AnswerAsync(control, "/v3/status"), "\"memoryBytes\"") < Jobs)
                {
                    if (watch.Elapsed > TimeSpan.FromMinutes(2))
                    {
                        throw new InvalidOperationException($"{pilot.Name}: {Jobs} jobs not all running after 2 minutes");
                    }
                    await Task.Delay(200);
                }
                await Task.Delay(ScaleCostLimits.Settle); // past start-up's tail, as the --scale idle window

                var idleBefore = Ticks(process.Id);
                await Task.Delay(IdleWindow);
                var idleCpuMs = (Ticks(process.Id) - idleBefore) * 10.0;

                foreach (var (path, endpoint, label) in new[] { ("/v3/status", (EndPoint)control, "GET /v3/status"), ("/metrics", telemetry, "GET /metrics") })
                {
                    var times = new List<double>();
                    var cpuBefore = Ticks(process.Id);
                    for (var i = 0; i < Requests; i++)
                    {
                        var started = Stopwatch.GetTimestamp();
                        var body = await AnswerAsync(endpoint, path);
                        times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        if (path == "/metrics" && CountOf(body, "pilot_job_memory_bytes{") < Jobs)
                        {
                            throw new InvalidOperationException($"{pilot.Name}: /metrics lacks the per-job memory series");
                        }
                    }
                    var cpuPerRequest = (Ticks(process.Id) - cpuBefore) * 10.0 / Requests;
                    table.Add($"{Jobs} jobs: {label} answer, each job's /proc usage read (ms)", pilot.Name, Sample.Of(times));
                    table.Add($"{Jobs} jobs: {label}, Pilot's CPU per request (ms, mean of {Requests})", pilot.Name,
                        new Sample(cpuPerRequest, cpuPerRequest, cpuPerRequest, 1) { Digits = 2 });
                }
                table.Add($"{Jobs} jobs: Pilot's CPU while nobody asks, {IdleWindow.TotalSeconds:0} s (ms)", pilot.Name,
                    new Sample(idleCpuMs, idleCpuMs, idleCpuMs, 1));
            }
            finally
            {
                await Bench.StopAsync(process);
            }
        }
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    /// <summary>One GET on a new connection the server closes after answering; the whole answer.</summary>
    private static async Task<string> AnswerAsync(EndPoint endpoint, string path)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, endpoint is IPEndPoint ? ProtocolType.Tcp : ProtocolType.Unspecified);
        await socket.ConnectAsync(endpoint);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: control\r\nConnection: close\r\n\r\n"));
        var answer = new MemoryStream();
        var buffer = new byte[65536];
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            answer.Write(buffer, 0, read);
        }
        var text = Encoding.UTF8.GetString(answer.ToArray());
        return text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) ? text : throw new InvalidOperationException($"{path}: {text[..Math.Min(200, text.Length)]}");
    }

    /// <summary>utime + stime of the process, in clock ticks of 10 ms.</summary>
    private static long Ticks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Skip(11).Take(2).Sum(f => long.Parse(f, CultureInfo.InvariantCulture));
    }
}
