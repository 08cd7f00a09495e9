using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Examples;

/// <summary>The README's <c>curl --unix-socket</c> lines, each run as written against a real Pilot.</summary>
public sealed class ReadmeExampleTests
{
    private const string Config = """
        {
          control: { socket: "SOCKET" },
          jobs: [ { name: "web", exec: ["sh", "-c", "echo web-up; exec sleep 600"], restarts: "unlimited" } ],
          telemetry: { port: 0, interfaces: ["static:127.0.0.1"], metrics: [ { name: "jobs_done", help: "jobs done", type: "counter" } ] },
        }
        """;

    [Fact]
    public async Task ReadmeCurlLines_EachGetTheirAnswer()
    {
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(2));
        var readme = await File.ReadAllLinesAsync(Path.Combine(Checkout.Root, "README.md"), timeout.Token);
        var lines = readme.Where(l => l.StartsWith("curl --unix-socket $S ", StringComparison.Ordinal)).ToList();
        lines.Count.ShouldBeGreaterThanOrEqualTo(16, "one line per endpoint");
        await using var pilot = RunningPilot.Start(Config);
        await pilot.WaitForSocketAsync(timeout.Token);
        await pilot.WaitForLineAsync("web-up", timeout.Token);

        foreach (var line in lines)
        {
            var streams = line.Contains(" -N ", StringComparison.Ordinal);
            // As written, plus: no progress meter, the status code last, and an end for the streams.
            var run = await PilotProcess.RunProgramAsync(
                "sh", ["-c", $"S='{pilot.SocketPath}'; {line} -sS --max-time {(streams ? 2 : 30)} -w '\\n%{{http_code}}'"], timeout.Token);

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
    }
}
