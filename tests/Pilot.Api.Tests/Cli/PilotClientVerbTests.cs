using System.Collections.Immutable;
using Pilot.Api.Tests.Support;
using Pilot.Supervisor.Config;
using Shouldly;
using Xunit;

namespace Pilot.Api.Tests.Cli;

/// <summary>The real <c>pilot</c> binary's client verbs against a live control plane (they load the config to find the socket).</summary>
public sealed class PilotClientVerbTests
{
    private static async Task<(ControlPlaneHost Host, string ConfigPath)> StartAsync()
    {
        var host = await ControlPlaneHost.StartAsync();
        var configPath = host.Directory.File("pilot.json5");
        await File.WriteAllTextAsync(configPath, $$"""
            {
              // a minimal v3 config: only the socket matters to the client verbs
              consul: "localhost:8500",
              control: { socket: "{{host.SocketPath}}" },
            }
            """, host.Token);
        return (host, configPath);
    }

    [Fact]
    public async Task Ping_PrintsOk_AndExits0()
    {
        var (host, config) = await StartAsync();
        await using var _ = host;

        var outcome = await PilotProcess.RunAsync(["-config", config, "-ping"], host.Token);

        outcome.ExitCode.ShouldBe(0, outcome.Stdout);
        outcome.Stdout.ShouldBe("ok\n");
    }

    [Fact]
    public async Task Ping_FindsConfigInContainerpilotVariable_WhenNoFlagIsGiven()
    {
        var (host, config) = await StartAsync();
        await using var _ = host;

        var outcome = await PilotProcess.RunAsync(["-ping"], host.Token, new Dictionary<string, string> { ["CONTAINERPILOT"] = config });

        outcome.ExitCode.ShouldBe(0, outcome.Stdout);
    }

    [Fact]
    public async Task Ping_Exits1_WhenNothingListens()
    {
        using var directory = new TempDirectory();
        var config = directory.File("pilot.json5");
        using var timeout = PilotProcess.Timeout();
        await File.WriteAllTextAsync(config, $$"""{ consul: "localhost:8500", control: { socket: "{{directory.File("none.sock")}}" } }""", timeout.Token);

        var outcome = await PilotProcess.RunAsync(["-config=" + config, "-ping"], timeout.Token);

        outcome.ExitCode.ShouldBe(1);
        outcome.Stdout.ShouldContain($" -ping: failed: cannot reach Pilot at {directory.File("none.sock")}: no such file or directory (is Pilot running?)\n");
    }

    [Fact]
    public async Task Putenv_SetsAndClearsVariables_AndExits0()
    {
        var (host, config) = await StartAsync();
        await using var _ = host;

        var outcome = await PilotProcess.RunAsync(["-config", config, "-putenv", "A=1=2", "--putenv", "GONE"], host.Token);

        outcome.ExitCode.ShouldBe(0, outcome.Stdout);
        host.Supervisor.Environment.ShouldBe(new Dictionary<string, string> { ["A"] = "1=2", ["GONE"] = "" }, ignoreOrder: true);
    }

    [Fact]
    public async Task Putenv_Exits1WithTheServersReason_WhenANameIsInvalid()
    {
        var (host, config) = await StartAsync();
        await using var _ = host;

        var outcome = await PilotProcess.RunAsync(["-config", config, "-putenv", "=x"], host.Token);

        outcome.ExitCode.ShouldBe(1);
        outcome.Stdout.ShouldContain("-putenv: failed to run subcommand: unprocessable entity received by control server");
        outcome.Stdout.ShouldContain("cannot be empty");
    }

    [Fact]
    public async Task Putmetric_SendsNumbers_AndExits0()
    {
        var (host, config) = await StartAsync();
        await using var _ = host;

        var outcome = await PilotProcess.RunAsync(["-config", config, "-putmetric", "queue_depth=3.5", "-putmetric", "jobs_done_total=1"], host.Token);

        outcome.ExitCode.ShouldBe(0, outcome.Stdout);
        host.Supervisor.Metrics["queue_depth"].ShouldBe(3.5);
        host.Supervisor.Metrics["jobs_done_total"].ShouldBe(1);
    }

    [Fact]
    public async Task Putmetric_Exits1_WhenTheMetricIsUnknown()
    {
        var (host, config) = await StartAsync();
        await using var _ = host;

        var outcome = await PilotProcess.RunAsync(["-config", config, "-putmetric", "nope=1"], host.Token);

        outcome.ExitCode.ShouldBe(1);
        outcome.Stdout.ShouldContain("unknown metric \"nope\"");
    }

    [Fact]
    public async Task Maintenance_EnablesWithEnable_AndDisablesWithDisable()
    {
        var (host, config) = await StartAsync();
        await using var _ = host;

        var enable = await PilotProcess.RunAsync(["-config", config, "-maintenance", "enable"], host.Token);
        var disable = await PilotProcess.RunAsync(["-config", config, "-maintenance", "disable"], host.Token);

        enable.ExitCode.ShouldBe(0, enable.Stdout);
        disable.ExitCode.ShouldBe(0, disable.Stdout);
        // v3's client prints nothing on success (as -putenv and -reload).
        enable.Stdout.ShouldBe("");
        disable.Stdout.ShouldBe("");
        host.Supervisor.GetStatus().Maintenance.ShouldBeFalse();
    }

    [Theory]
    [InlineData("off")]
    [InlineData("Enable")]
    [InlineData("")]
    public async Task Maintenance_Exits2AndChangesNothing_ForAnyOtherValue(string value)
    {
        var (host, config) = await StartAsync();
        await using var _ = host;
        await host.Supervisor.SetMaintenanceAsync(true, host.Token);

        var outcome = await PilotProcess.RunAsync(["-config", config, "-maintenance", value], host.Token);

        outcome.ExitCode.ShouldBe(2);
        outcome.Stderr.ShouldStartWith($"invalid value \"{value}\" for flag -maintenance: must be 'enable' or 'disable'\n");
        // Still enabled: v3 took any value but "enable" as "disable"; Pilot refuses it.
        var (_, stillEnabled, _) = await host.Client.PostJsonAsync("/v3/maintenance/enable", null, host.Token);
        stillEnabled.GetProperty("updated").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task Reload_IsSilentAndExits0_WhenTheServerReloads()
    {
        var (host, config) = await StartAsync();
        await using var _ = host;

        var outcome = await PilotProcess.RunAsync(["-config", config, "-reload"], host.Token);

        outcome.ExitCode.ShouldBe(0, outcome.Stdout);
        outcome.Stdout.ShouldBeEmpty();
        host.Supervisor.Reloads.ShouldBe(1);
    }

    [Fact]
    public async Task Reload_PrintsEveryError_AndExits1_WhenTheNewConfigIsInvalid()
    {
        var (host, config) = await StartAsync();
        await using var _ = host;
        host.Supervisor.NextReloadErrors = ImmutableArray.Create(new ConfigError("jobs[0].name", "`name` must not be blank", 3));

        var outcome = await PilotProcess.RunAsync(["-config", config, "-reload"], host.Token);

        outcome.ExitCode.ShouldBe(1);
        outcome.Stdout.ShouldContain("-reload: failed to run subcommand: ");
        outcome.Stdout.ShouldContain("jobs[0].name: `name` must not be blank (line 3)");
    }

    [Fact]
    public async Task Validate_Exits0_ForAValidConfig_And1WithErrors_ForAnInvalidOne()
    {
        var (host, config) = await StartAsync();
        await using var _ = host;
        var invalid = host.Directory.File("bad.json5");
        await File.WriteAllTextAsync(invalid, """{ consul: "localhost:8500", nope: 1 }""", host.Token);

        var good = await PilotProcess.RunAsync(["-config", config, "-validate"], host.Token);
        var bad = await PilotProcess.RunAsync(["-config", invalid, "-validate"], host.Token);

        good.ExitCode.ShouldBe(0, good.Stdout);
        good.Stdout.ShouldEndWith(": valid\n");
        bad.ExitCode.ShouldBe(1);
        bad.Stdout.ShouldContain("error: ");
        bad.Stdout.ShouldContain("nope");
    }

    [Fact]
    public async Task Template_RendersWithTheEnvironment_ToOutFileWithMode0644()
    {
        using var directory = new TempDirectory();
        var template = directory.File("t.json5");
        var rendered = directory.File("out.json5");
        using var timeout = PilotProcess.Timeout();
        await File.WriteAllTextAsync(template, """{ consul: "{{ .CONSUL_HOST }}:8500" }""", timeout.Token);

        var outcome = await PilotProcess.RunAsync(
            ["-config", template, "-template", "-out", rendered], timeout.Token,
            new Dictionary<string, string> { ["CONSUL_HOST"] = "consul.local" });

        outcome.ExitCode.ShouldBe(0, outcome.Stdout);
        (await File.ReadAllTextAsync(rendered, timeout.Token)).ShouldBe("""{ consul: "consul.local:8500" }""");
        File.GetUnixFileMode(rendered).ShouldBe(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    [Fact]
    public async Task Template_RendersToStdout_WithoutExtraNewline_WhenOutIsDash()
    {
        using var directory = new TempDirectory();
        var template = directory.File("t.json5");
        using var timeout = PilotProcess.Timeout();
        await File.WriteAllTextAsync(template, """{ consul: "{{ .CONSUL_HOST }}" }""", timeout.Token);

        var outcome = await PilotProcess.RunAsync(
            ["-config", template, "-template", "-out", "-"], timeout.Token, new Dictionary<string, string> { ["CONSUL_HOST"] = "c" });

        outcome.ExitCode.ShouldBe(0, outcome.Stdout);
        outcome.Stdout.ShouldBe("""{ consul: "c" }""");
    }

    [Fact]
    public async Task Run_Exits1_WhenAnotherPilotAnswersOnTheSocket()
    {
        var (host, config) = await StartAsync();
        await using var _ = host;

        var outcome = await PilotProcess.RunAsync(["-config", config], host.Token);

        outcome.ExitCode.ShouldBe(1);
        outcome.Stdout.ShouldContain($"control socket {host.SocketPath} is in use");
        var (status, _, _) = await host.Client.GetJsonAsync("/v3/ping", host.Token);
        status.ShouldBe(System.Net.HttpStatusCode.OK);
    }
}
