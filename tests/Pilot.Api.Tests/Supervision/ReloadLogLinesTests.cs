using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// After a reload Pilot prints v3's control-server lines again, in v3's order and at its levels: v3 restarted its control
/// server on every reload, and ContainerPilot's own test_config_reload (like any script) waits for the second
/// <c>control: serving at</c> to know the reload finished. Pilot keeps serving the socket; only the lines are v3's.
/// </summary>
public sealed class ReloadLogLinesTests
{
    private const string Config = """
        {
          logging: { level: "DEBUG", format: "text" },
          control: { socket: "SOCKET" },
          jobs: [ { name: "app", exec: ["sh", "-c", "echo app-VERSION; exec sleep 600"] } ],
        }
        """;

    [Fact]
    public async Task Reload_PrintsV3sControlServerStopAndServeLines_InV3sOrderAndLevels()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start(Config.Replace("VERSION", "v1", StringComparison.Ordinal));
        await pilot.WaitForLineAsync("app-v1", timeout.Token);
        await pilot.WaitForSocketAsync(timeout.Token);
        pilot.WriteConfig(Config.Replace("VERSION", "v2", StringComparison.Ordinal));

        var reload = await PilotProcess.RunAsync(["-config", pilot.ConfigPath, "-reload"], timeout.Token);

        reload.ExitCode.ShouldBe(0, reload.Output);
        // What test_config_reload waits for: the second serving line.
        await pilot.WaitForLineAsync($"control: serving at {pilot.SocketPath}", timeout.Token, occurrences: 2);
        await pilot.WaitForLineAsync("app-v2", timeout.Token);
        var lines = pilot.Lines;
        var reloading = Index(lines, "control: reloading app via control plane", "debug");
        var expected = new (string Text, string Level)[]
        {
            ("control: stopping control server", "debug"),
            ($"control: stopped serving at {pilot.SocketPath}", "debug"),
            ("control: completed graceful shutdown of control server", "debug"),
            ("loaded config: ", "debug"),
            ("control: initialized router for control server", "debug"),
            ($"control: listening to {pilot.SocketPath}", "debug"),
            ($"control: serving at {pilot.SocketPath}", "info"),
            ("app-v2", "info"),
        };
        var previous = reloading;
        foreach (var (text, level) in expected)
        {
            var index = Index(lines, text, level, after: previous);
            index.ShouldBeGreaterThan(previous, $"'{text}' after the reload, in v3's order:\n{pilot.Output}");
            previous = index;
        }
        lines.Count(l => l.Contains("msg=\"control: serving at ", StringComparison.Ordinal)).ShouldBe(2, pilot.Output);
    }

    /// <summary>The first line after <paramref name="after"/> with <paramref name="text"/> at <paramref name="level"/>; -1 if none.</summary>
    private static int Index(IReadOnlyList<string> lines, string text, string level, int after = -1)
    {
        for (var i = after + 1; i < lines.Count; i++)
        {
            if (lines[i].Contains(text, StringComparison.Ordinal) && lines[i].Contains($" level={level} ", StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }
}
