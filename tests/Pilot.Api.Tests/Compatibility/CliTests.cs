using System.Text.Json;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part A §6 (CLI): the real binary as v3's command line.</summary>
public sealed class CliTests
{
    private const int SIGHUP = 1, SIGTERM = 15;

    [Fact]
    public async Task ClientVerbs_ValidateTheWholeConfig_AndExit1WithItsErrors()
    {
        using var timeout = PilotProcess.Timeout();
        using var directory = new TempDirectory();
        var config = directory.File("pilot.json5");
        await File.WriteAllTextAsync(config, $$"""
            { control: { socket: "{{directory.File("pilot.socket")}}" }, jobs: [ { name: "a", exec: "true", timeout: "xx" } ] }
            """, timeout.Token);

        var outcome = await PilotProcess.RunAsync(["-config", config, "-ping"], timeout.Token);

        outcome.ExitCode.ShouldBe(1);
        outcome.Stdout.ShouldMatch(@"^\S+ jobs\[0\]\.timeout: unable to parse job\[a\]\.timeout 'xx': time: invalid duration xx \(line 1\)\n$");
    }

    /// <summary><c>-template</c> only renders (the output need not be a valid config), comes before every client verb, and reports a write failure.</summary>
    [Fact]
    public async Task Template_RendersWithoutValidating_WinsOverClientVerbs_AndReportsAWriteFailure()
    {
        using var timeout = PilotProcess.Timeout();
        using var directory = new TempDirectory();
        var config = directory.File("pilot.json5");
        await File.WriteAllTextAsync(config, "{{ .GREETING }}, not a config at all", timeout.Token);
        var environment = new Dictionary<string, string> { ["GREETING"] = "hello" };

        var rendered = await PilotProcess.RunAsync(["-config", config, "-ping", "-reload", "-template"], timeout.Token, environment);
        var unwritable = await PilotProcess.RunAsync(["-config", config, "-template", "-out", directory.File("missing/rendered.json5")], timeout.Token, environment);

        rendered.ExitCode.ShouldBe(0, rendered.Stdout);
        rendered.Stdout.ShouldBe("hello, not a config at all");
        unwritable.ExitCode.ShouldBe(1);
        unwritable.Stdout.ShouldMatch(@"^\S+ could not write config file: ");
    }

    /// <summary>
    /// Against a running Pilot: with several verbs the first in v3's order wins (maintenance, then putenv, then
    /// putmetric, then ping); <c>-putenv</c> splits on the first <c>=</c> and a repeated key keeps the last value.
    /// </summary>
    [Fact]
    public async Task ClientVerbs_FollowV3Precedence_AndPutenvSplitsOnTheFirstEquals()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "app", exec: "sleep 600" },
                { name: "show", exec: ["sh", "-c", "echo show A=[${A-unset}] B=[${B-unset}] C=[${C-unset}]"], when: { source: "SIGHUP" } },
              ],
            }
            """);
        await pilot.WaitForSocketAsync(timeout.Token);
        string[] config = ["-config", pilot.ConfigPath];

        var putenv = await PilotProcess.RunAsync([.. config, "-ping", "-putmetric", "m=1", "-putenv", "A=x=y", "-putenv", "B=1", "-putenv", "B=2"], timeout.Token);
        var maintenance = await PilotProcess.RunAsync([.. config, "-putenv", "C=3", "-maintenance", "enable", "-ping"], timeout.Token);
        pilot.Signal(SIGHUP);

        putenv.ExitCode.ShouldBe(0, putenv.Stdout);
        putenv.Stdout.ShouldBe("", "-putenv runs (silently) before -putmetric and -ping");
        maintenance.ExitCode.ShouldBe(0, maintenance.Stdout);
        (await pilot.WaitForLineAsync(" show A=", timeout.Token)).ShouldEndWith("show A=[x=y] B=[2] C=[unset]");
        using var client = pilot.CreateClient();
        var status = JsonDocument.Parse(await client.GetStringAsync("/v3/status", timeout.Token)).RootElement;
        status.GetProperty("maintenance").GetBoolean().ShouldBeTrue("-maintenance runs before -putenv");
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }
}
