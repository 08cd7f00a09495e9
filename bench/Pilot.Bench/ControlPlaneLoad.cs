using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pilot.Bench;

/// <summary>A closed-loop load generator over the control socket: N clients, each sending the next request when the last answered.</summary>
internal static class ControlPlaneLoad
{
    public sealed record Request(string Label, HttpMethod Method, string Path, string? Body);

    public sealed record Result(double RequestsPerSecond, double P50Ms, double P99Ms, int Errors);

    public static readonly Request[] Requests =
    [
        new("GET /v3/ping", HttpMethod.Get, "/v3/ping", null),
        new("POST /v3/environ", HttpMethod.Post, "/v3/environ", "{\"BENCH_VALUE\":\"x\"}"),
        new("POST /v3/metric", HttpMethod.Post, "/v3/metric", "{\"bench_requests\":1}"),
    ];

    private const int Clients = 16;

    /// <summary>
    /// Every subject runs at once, idle but for the load; then three 5-second rounds of 16 clients, taking the subjects in
    /// turn. Each has a counter <c>bench_requests</c> configured (ContainerPilot ignores keys it does not know).
    /// </summary>
    public static async Task MeasureAsync(ResultTable table, Request request, IReadOnlyList<SupervisorSubject> subjects)
    {
        var running = subjects.Select(s => (Subject: s, Process: s.Start("{ name: \"idle\", exec: \"sleep 600\" }",
            $"telemetry: {{ port: {FreePort()}, interfaces: [\"static:127.0.0.1\"], metrics: [ {{ name: \"bench_requests\", help: \"bench\", type: \"counter\" }} ] }}, "))).ToList();
        try
        {
            var results = subjects.Select(_ => new List<Result>()).ToArray();
            foreach (var (subject, _) in running)
            {
                await WaitReadyAsync(subject.SocketPath);
                await RunAsync(subject.SocketPath, request, Clients, TimeSpan.FromSeconds(1)); // warm-up
            }
            for (var round = 0; round < 3; round++)
            {
                for (var i = 0; i < running.Count; i++)
                {
                    var result = await RunAsync(running[i].Subject.SocketPath, request, Clients, TimeSpan.FromSeconds(5));
                    if (result.Errors > 0)
                    {
                        throw new InvalidOperationException($"{running[i].Subject.Name}: {request.Label}: {result.Errors} requests failed");
                    }
                    results[i].Add(result);
                }
            }
            for (var i = 0; i < running.Count; i++)
            {
                var name = running[i].Subject.Name;
                table.Add($"{request.Label}: requests/s, {Clients} clients", name, Sample.Of([.. results[i].Select(r => r.RequestsPerSecond)]));
                table.Add($"{request.Label}: p50 latency (ms)", name, Sample.Of([.. results[i].Select(r => r.P50Ms)]));
                table.Add($"{request.Label}: p99 latency (ms)", name, Sample.Of([.. results[i].Select(r => r.P99Ms)]));
            }
        }
        finally
        {
            foreach (var (_, process) in running)
            {
                await Bench.StopAsync(process);
                process.Dispose();
            }
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until the socket answers a ping.</summary>
    public static async Task WaitReadyAsync(string socketPath)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                var result = await RunAsync(socketPath, Requests[0], 1, TimeSpan.Zero);
                if (result.Errors == 0)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            await Task.Delay(20);
        }
    }

    public static async Task<Result> RunAsync(string socketPath, Request request, int clients, TimeSpan duration)
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
            MaxConnectionsPerServer = clients,
        })
        { BaseAddress = new Uri("http://control") };
        var latencies = new List<double>[clients];
        var errors = 0;
        var stop = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async client =>
        {
            var mine = latencies[client] = [];
            do
            {
                using var message = new HttpRequestMessage(request.Method, request.Path);
                if (request.Body is not null)
                {
                    message.Content = new StringContent(request.Body, Encoding.UTF8, "application/json");
                }
                var started = Stopwatch.GetTimestamp();
                using var response = await http.SendAsync(message);
                await response.Content.ReadAsByteArrayAsync();
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors);
                }
            }
            while (stop.Elapsed < duration);
        }));
        var all = latencies.SelectMany(l => l).Order().ToList();
        return new Result(all.Count / stop.Elapsed.TotalSeconds, all[all.Count / 2], all[(int)(all.Count * 0.99)], errors);
    }
}
