using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Pilot.Bench;

/// <summary>A closed-loop load generator over the control socket: N clients, each sending the next request when the last answered.</summary>
internal static class ControlPlaneLoad
{
    public sealed record Result(double RequestsPerSecond, double P50Ms, double P99Ms, int Errors);

    /// <summary>Waits until the socket answers a ping.</summary>
    public static async Task WaitReadyAsync(string socketPath)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                var result = await RunAsync(socketPath, HttpMethod.Get, "/v3/ping", null, 1, TimeSpan.Zero);
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

    public static async Task<Result> RunAsync(string socketPath, HttpMethod method, string path, string? body, int clients, TimeSpan duration)
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
                using var request = new HttpRequestMessage(method, path);
                if (body is not null)
                {
                    request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                }
                var started = Stopwatch.GetTimestamp();
                using var response = await http.SendAsync(request);
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
