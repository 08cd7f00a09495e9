using System.Diagnostics;
using System.Globalization;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Examples;

/// <summary>
/// Every <c>$ pilot …</c> command and every <c>curl --unix-socket $S …</c> line of the README, run as written against a
/// real Pilot running examples/quickstart.json5 (as <c>./scripts/run-example</c> does, with its socket and ports moved
/// to this test's own through the template variables the quickstart reads).
/// </summary>
public sealed class ReadmeExampleTests
{
    private const int SIGTERM = 15;

    [Fact]
    public async Task ReadmeCommandsAndCurlLines_RunAsWritten_AgainstTheQuickstart()
    {
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(3));
        var readme = await File.ReadAllLinesAsync(Path.Combine(Checkout.Root, "README.md"), timeout.Token);
        var commands = readme.Where(l => l.StartsWith("$ pilot ", StringComparison.Ordinal)).Select(l => l["$ pilot ".Length..]).ToList();
        var curls = readme.Where(l => l.StartsWith("curl --unix-socket $S ", StringComparison.Ordinal)).ToList();
        commands.Count.ShouldBeGreaterThanOrEqualTo(8);
        curls.Count.ShouldBeGreaterThanOrEqualTo(16, "one line per endpoint");
        readme.ShouldContain("$ export CONTAINERPILOT=examples/quickstart.json5      # while ./scripts/run-example runs");

        using var directory = new TempDirectory();
        var environment = new Dictionary<string, string>
        {
            ["CONTAINERPILOT"] = Path.Combine(Checkout.Root, "examples/quickstart.json5"),
            ["PILOT_SOCKET"] = directory.File("quickstart.sock"),
            ["PORT"] = LoopbackPort.Free().ToString(CultureInfo.InvariantCulture),
            ["METRICS_PORT"] = LoopbackPort.Free().ToString(CultureInfo.InvariantCulture),
        };
        var start = new ProcessStartInfo(Checkout.PilotBinary()) { WorkingDirectory = directory.Path };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        await using var pilot = CapturedPilot.Start(start);
        await pilot.WaitForLineAsync("web is healthy and serving", timeout.Token);

        foreach (var command in commands)
        {
            var run = await PilotProcess.RunAsync(command.Split(' '), timeout.Token, environment);
            run.ExitCode.ShouldBe(0, $"pilot {command}\n{run.Output}");
            run.Stderr.ShouldBeEmpty($"pilot {command}");
            switch (command)
            {
                case "status":
                    run.Stdout.ShouldContain("web ");
                    break;
                case "logs announce":
                    run.Stdout.ShouldContain("web is healthy and serving");
                    break;
                case "logs goodbye":
                    run.Stdout.ShouldContain("web is stopping", customMessage: "pilot restart web ran the pre-stop job");
                    break;
                case "-ping":
                    run.Stdout.ShouldBe("ok\n");
                    break;
                case var flag when flag.StartsWith('-'):
                    run.Stdout.ShouldBeEmpty($"pilot {command} prints nothing on success (v3)");
                    break;
            }
        }

        foreach (var line in curls)
        {
            var streams = line.Contains(" -N ", StringComparison.Ordinal);
            // As written, plus: no progress meter, the status code last, and an end for the streams.
            var run = await PilotProcess.RunProgramAsync(
                "sh", ["-c", $"S='{environment["PILOT_SOCKET"]}'; {line} -sS --max-time {(streams ? 2 : 30)} -w '\\n%{{http_code}}'"], timeout.Token);

            if (streams)
            {
                run.ExitCode.ShouldBe(28, $"{line}\n{run.Output}");
                run.Stdout.ShouldContain(line.Contains("/logs", StringComparison.Ordinal) ? "data: " : ": subscribed", customMessage: line);
            }
            else
            {
                run.ExitCode.ShouldBe(0, $"{line}\n{run.Output}");
                run.Stdout.Split('\n')[^1].ShouldBe("200", $"{line}\n{run.Output}");
            }
        }

        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }
}
