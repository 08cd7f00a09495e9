using System.Globalization;
using System.Net;
using System.Text;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// A burst of control-plane requests must not leave Pilot — a PID 1 that then idles for hours — at its peak memory:
/// once the burst is over, its resident set falls back toward idle.
/// </summary>
public sealed class MemoryAfterLoadTests
{
    private const int Requests = 30_000, Clients = 16;

    [Fact]
    public async Task Rss_FallsBackAfterABurstOfControlRequests()
    {
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(2));
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              logging: { level: "DEBUG" },
              telemetry: { port: 0, interfaces: ["static:127.0.0.1"],
                metrics: [ { namespace: "load", name: "requests", help: "requests sent", type: "counter" } ] },
              jobs: [ { name: "app", exec: ["sleep", "600"] } ],
            }
            """,
            // Under JIT, code compiled once and for all in the warm-up: tiered recompilation of hot methods during the
            // measured burst (later on a busy machine) would add code pages that no collection gives back. AOT ignores it.
            environment: new Dictionary<string, string> { ["DOTNET_TieredCompilation"] = "0" });
        await pilot.WaitForSocketAsync(timeout.Token);
        // A first burst warms the request path up (under JIT its compiled code stays), and Pilot gives its heap back.
        await LoadAsync(pilot.SocketPath, Requests / 5, timeout.Token);
        await pilot.WaitForLineAsync(BurstOver, timeout.Token);
        var idle = RssMiB(pilot.Pid);

        await LoadAsync(pilot.SocketPath, Requests, timeout.Token);
        var loaded = RssMiB(pilot.Pid);
        await pilot.WaitForLineAsync(BurstOver, timeout.Token, occurrences: 2);
        var after = RssMiB(pilot.Pid);

        TestContext.Current.TestOutputHelper?.WriteLine($"RSS idle {idle:0.0} MiB, after {Requests} requests {loaded:0.0} MiB, then {after:0.0} MiB");
        if (loaded > idle + 4)
        {
            after.ShouldBeLessThan(idle + (loaded - idle) / 2, $"idle {idle:0.0} MiB, loaded {loaded:0.0} MiB");
        }
        else
        {
            // The AOT binary's small gen0 budget (GarbageCollector.props) may keep a burst from growing the heap at all:
            // then RSS must simply still be near idle.
            after.ShouldBeLessThan(idle + 4, $"idle {idle:0.0} MiB, loaded {loaded:0.0} MiB");
        }
    }

    /// <summary>Pilot's debug line once a burst is over and the heap compacted: the moment to measure.</summary>
    private const string BurstOver = "burst over: heap compacted";

    private static async Task LoadAsync(string socketPath, int requests, CancellationToken cancellationToken)
    {
        using var client = Pilot.Api.Cli.ControlClient.CreateHttpClient(socketPath, Clients);
        var remaining = requests;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async _ =>
        {
            for (var i = 0; Interlocked.Decrement(ref remaining) >= 0; i++)
            {
                using var request = (i % 4) switch
                {
                    0 => new HttpRequestMessage(HttpMethod.Get, "/v3/ping"),
                    1 => new HttpRequestMessage(HttpMethod.Get, "/v3/status"),
                    2 => new HttpRequestMessage(HttpMethod.Post, "/v3/environ")
                    {
                        Content = new StringContent($$"""{"LOAD_{{i % 50}}":"{{new string('x', 200)}}"}""", Encoding.UTF8, "application/json"),
                    },
                    _ => new HttpRequestMessage(HttpMethod.Post, "/v3/metric")
                    {
                        Content = new StringContent("""{"load_requests":1}""", Encoding.UTF8, "application/json"),
                    },
                };
                using var response = await client.SendAsync(request, cancellationToken);
                response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(cancellationToken));
            }
        }));
    }

    private static double RssMiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
