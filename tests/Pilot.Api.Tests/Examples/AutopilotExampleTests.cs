using System.Diagnostics;
using Pilot.Api.Tests.Control;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Examples;

/// <summary>examples/autopilot/run-local: real nginx, real Pilots, the Consul test agent; scale 1 → 3 → 1.</summary>
public sealed class AutopilotExampleTests
{
    [Fact]
    public async Task AutopilotExample_NginxReachesExactlyTheLiveAppInstances()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var script = Path.Combine(Checkout.Root, "examples/autopilot/run-local");
        var start = new ProcessStartInfo(script) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["PILOT_BIN"] = Checkout.PilotBinary();
        start.Environment["CONSUL_TEST_AGENT_BIN"] = Path.Combine(AppContext.BaseDirectory, "Pilot.ConsulTestAgent");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        var output = await stdout + await stderr;

        process.ExitCode.ShouldBe(0, output);
        output.ShouldContain("nginx reaches exactly: app-1 app-2 app-3");
        output.ShouldEndWith("autopilot: OK\n");
    }
}
