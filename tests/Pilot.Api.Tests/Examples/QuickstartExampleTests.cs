using System.Diagnostics;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Examples;

/// <summary>examples/quickstart.json5 as ./scripts/run-example runs it, operated with the commands the README shows.</summary>
public sealed class QuickstartExampleTests
{
    private const int SIGTERM = 15;

    [Fact]
    public async Task Quickstart_RunsQuietly_AndIsOperatedWithTheCommands()
    {
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(2));
        using var directory = new TempDirectory();
        var environment = new Dictionary<string, string>
        {
            ["CONTAINERPILOT"] = Path.Combine(Checkout.Root, "examples/quickstart.json5"),
            ["PILOT_SOCKET"] = directory.File("quickstart.sock"),
            ["PORT"] = LoopbackPort.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["METRICS_PORT"] = LoopbackPort.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var start = new ProcessStartInfo(Checkout.PilotBinary()) { WorkingDirectory = directory.Path };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        await using var pilot = CapturedPilot.Start(start);
        await pilot.WaitForLineAsync("web is healthy and serving", timeout.Token);

        var status = await PilotProcess.RunAsync(["status"], timeout.Token, environment);
        var logs = await PilotProcess.RunAsync(["logs", "web"], timeout.Token, environment);
        // Two more passing checks of web: each is a request the old example logged.
        await using (var events = StartEvents(environment))
        {
            await events.WaitForLineAsync(" healthy web", timeout.Token, occurrences: 2);
        }
        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        status.ExitCode.ShouldBe(0, status.Stderr);
        status.Stdout.Split('\n').ShouldContain(l => l.StartsWith("web ", StringComparison.Ordinal) && l.Contains(" running ", StringComparison.Ordinal));
        logs.Stdout.ShouldContain(" web ");
        logs.Stdout.ShouldContain("serving on ");
        pilot.Lines.ShouldNotContain(l => l.Contains("HTTP/1.", StringComparison.Ordinal), "the health check's requests are not logged");
        pilot.Lines.ShouldNotContain(l => l.Contains("Traceback", StringComparison.Ordinal));
        pilot.Output.ShouldContain("web is stopping");
    }

    private static CapturedPilot StartEvents(IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(Checkout.PilotBinary());
        start.ArgumentList.Add("events");
        start.ArgumentList.Add("web");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        return CapturedPilot.Start(start);
    }
}
