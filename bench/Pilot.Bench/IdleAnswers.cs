using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pilot.Bench;

/// <summary>
/// The first answer after a listener has been idle: what a container health check (<c>pilot -ping</c> every 30 s), a
/// sidecar script or a scraper sees. Pilot stops the Kestrel behind the control socket and the telemetry port when
/// nobody calls and starts it again at the next connection; this is that next connection, cycle after cycle.
/// </summary>
internal static class IdleAnswers
{
    public const int Cycles = 30;

    /// <summary>Pilot's idle time for this run (<c>PILOT_LISTENER_IDLE</c>), so each gap below really stops its Kestrel.</summary>
    private static readonly Dictionary<string, string> ShortIdle = new() { ["PILOT_LISTENER_IDLE"] = "200ms" };

    /// <summary>Longer than Pilot's idle time plus one check of it.</summary>
    private static readonly TimeSpan Gap = TimeSpan.FromMilliseconds(700);

    public static async Task MeasureAsync(ResultTable table, IReadOnlyList<SupervisorSubject> subjects)
    {
        var running = subjects.Select(subject =>
        {
            var port = ControlPlaneLoad.FreePort();
            var process = subject.Start("{ name: \"idle\", exec: \"sleep 600\" }",
                $"telemetry: {{ port: {port}, interfaces: [\"static:127.0.0.1\"] }}, ", ShortIdle);
            return (Subject: subject, Process: process, Telemetry: new IPEndPoint(IPAddress.Loopback, port));
        }).ToList();
        try
        {
            var control = running.Select(_ => new List<double>()).ToArray();
            var telemetry = running.Select(_ => new List<double>()).ToArray();
            foreach (var (subject, _, _) in running)
            {
                await ControlPlaneLoad.WaitReadyAsync(subject.SocketPath);
            }
            for (var cycle = 0; cycle < Cycles; cycle++)
            {
                await Task.Delay(Gap);
                for (var i = 0; i < running.Count; i++)
                {
                    control[i].Add(await TimeAnswerAsync(new UnixDomainSocketEndPoint(running[i].Subject.SocketPath), "/v3/ping"));
                    telemetry[i].Add(await TimeAnswerAsync(running[i].Telemetry, "/metrics"));
                }
            }
            for (var i = 0; i < running.Count; i++)
            {
                table.Add($"control socket after idle: first GET /v3/ping, new connection (ms, {Cycles} cycles)", running[i].Subject.Name, Sample.Of(control[i]));
                table.Add($"telemetry after idle: first GET /metrics, new connection (ms, {Cycles} cycles)", running[i].Subject.Name, Sample.Of(telemetry[i]));
            }
        }
        finally
        {
            foreach (var (_, process, _) in running)
            {
                await Bench.StopAsync(process);
                process.Dispose();
            }
        }
    }

    /// <summary>Milliseconds from connecting to the end of the answer, for one request on a connection the server closes.</summary>
    private static async Task<double> TimeAnswerAsync(EndPoint endpoint, string path)
    {
        var started = Stopwatch.GetTimestamp();
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, endpoint is IPEndPoint ? ProtocolType.Tcp : ProtocolType.Unspecified);
        await socket.ConnectAsync(endpoint);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: control\r\nConnection: close\r\n\r\n"));
        var buffer = new byte[16384];
        var first = true;
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            if (first && !Encoding.ASCII.GetString(buffer, 0, Math.Min(read, 12)).StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{endpoint} {path}: {Encoding.ASCII.GetString(buffer, 0, read)}");
            }
            first = false;
        }
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }
}
