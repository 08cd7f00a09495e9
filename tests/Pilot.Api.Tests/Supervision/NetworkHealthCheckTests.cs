using System.Net;
using System.Net.Sockets;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// The real <c>pilot</c> binary with <c>health.http</c> and <c>health.tcp</c> checks against a real HTTP server and a
/// real TCP listener started here: healthy while they answer, unhealthy once they are gone, seen through the
/// <c>healthy</c>/<c>unhealthy</c> events that other jobs react to (as with exec checks).
/// </summary>
public sealed class NetworkHealthCheckTests
{
    private const int SIGTERM = 15;

    private static string Config(string check) => $$"""
        {
          control: { socket: "SOCKET" },
          jobs: [
            { name: "web", exec: "sleep 600", health: { {{check}}, interval: 1, ttl: 5, timeout: "2s" } },
            { name: "on-healthy", exec: "echo web-is-healthy", when: { source: "web", each: "healthy" } },
            { name: "on-unhealthy", exec: "echo web-is-unhealthy", when: { source: "web", each: "unhealthy" } },
          ],
        }
        """;

    /// <summary>A string field of one job in <c>/v3/status</c> (null when absent).</summary>
    internal static async Task<string?> JobFieldAsync(RunningPilot pilot, string job, string field, CancellationToken cancellationToken)
    {
        using var client = pilot.CreateClient();
        using var status = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/v3/status", cancellationToken));
        var entry = status.RootElement.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == job);
        return entry.TryGetProperty(field, out var value) ? value.GetString() : null;
    }

    [Fact]
    public async Task HttpCheck_IsHealthyInItsStatusRange_AndUnhealthyOutsideIt_OrWhenTheServerStops()
    {
        using var timeout = PilotProcess.Timeout();
        using var server = new TinyHttpServer(status: 503);
        await using var pilot = RunningPilot.Start(Config($"""http: "{server.Url}", status: "200-299" """));

        await pilot.WaitForLineAsync("web-is-unhealthy", timeout.Token);
        pilot.Output.ShouldContain($"check.web exited with error: GET {server.Url}: HTTP 503");
        server.Status = 204;
        await pilot.WaitForLineAsync("web-is-healthy", timeout.Token);
        (await JobFieldAsync(pilot, "web", "check", timeout.Token)).ShouldBe("http");
        (await JobFieldAsync(pilot, "on-healthy", "check", timeout.Token)).ShouldBeNull();
        var unhealthyBefore = pilot.Lines.Count(l => l.Contains("web-is-unhealthy", StringComparison.Ordinal));

        server.Stop();

        await pilot.WaitForLineAsync("web-is-unhealthy", timeout.Token, occurrences: unhealthyBefore + 1);
        pilot.Output.ShouldContain("Connection refused");
        server.Requests.ShouldBeGreaterThanOrEqualTo(2);
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task TcpCheck_IsHealthyWhileTheListenerAccepts_AndUnhealthyOnceItStops()
    {
        using var timeout = PilotProcess.Timeout();
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var pilot = RunningPilot.Start(Config($"""tcp: "127.0.0.1:{port}" """));

        await pilot.WaitForLineAsync("web-is-healthy", timeout.Token);
        pilot.Output.ShouldNotContain("web-is-unhealthy");
        (await JobFieldAsync(pilot, "web", "check", timeout.Token)).ShouldBe("tcp");

        listener.Stop();

        await pilot.WaitForLineAsync("web-is-unhealthy", timeout.Token);
        pilot.Output.ShouldContain($"check.web exited with error: dial tcp 127.0.0.1:{port}:");
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }
}
