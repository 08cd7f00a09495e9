using Pilot.Api.Tests.Support;
using Shouldly;
using Xunit;

namespace Pilot.Api.Tests.Cli;

/// <summary>The real <c>pilot</c> binary: flags that need no config.</summary>
public sealed class PilotProcessTests
{
    [Theory]
    [InlineData("-version")]
    [InlineData("--version")]
    [InlineData("-version=true")]
    public async Task Version_PrintsVersionAndGitHash_AndExits0(string flag)
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await PilotProcess.RunAsync([flag, "-ping"], timeout.Token);

        outcome.ExitCode.ShouldBe(0);
        outcome.Stdout.ShouldMatch(@"^Version: \d+\.\d+\.\d+[^\n]*\nGitHash: [^\n]+\n$");
    }

    [Fact]
    public async Task UnknownFlag_PrintsUsageToStderr_AndExits2()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await PilotProcess.RunAsync(["-bogus"], timeout.Token);

        outcome.ExitCode.ShouldBe(2);
        outcome.Stderr.ShouldStartWith("flag provided but not defined: -bogus\nUsage of ");
    }

    [Fact]
    public async Task Help_PrintsUsage_AndExits2AsGo19()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await PilotProcess.RunAsync(["-h"], timeout.Token);

        outcome.ExitCode.ShouldBe(2);
        outcome.Stderr.ShouldContain("-putmetric value");
    }

    [Fact]
    public async Task PutmetricWithoutEquals_Exits2()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await PilotProcess.RunAsync(["-putmetric", "m"], timeout.Token);

        outcome.ExitCode.ShouldBe(2);
        outcome.Stderr.ShouldContain("was not in the format 'key=val'");
    }

    [Theory]
    [InlineData("-template")]
    [InlineData("-validate")]
    public async Task ConfigFlag_IsRequired_ToRenderOrValidate(string flag)
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await PilotProcess.RunAsync([flag], timeout.Token);

        outcome.ExitCode.ShouldBe(1);
        outcome.Stdout.ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z -config flag is required\n$");
    }

    [Theory]
    [InlineData("-ping")]
    [InlineData("-reload")]
    public async Task ClientFlag_UsesTheDefaultSocket_WhenNoConfigIsGiven(string flag)
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await PilotProcess.RunAsync([flag], timeout.Token);

        outcome.ExitCode.ShouldBe(1);
        outcome.Stdout.ShouldContain("cannot reach Pilot at /var/run/containerpilot.socket: ");
        outcome.Stdout.ShouldEndWith(" (is Pilot running?)\n");
    }

    [Theory]
    [InlineData("-template")]
    [InlineData("-validate")]
    [InlineData("-ping")]
    [InlineData("")]
    public async Task ConfigFile_ErrorsSayWhatAndWhy_InV3sWords(string flag)
    {
        using var timeout = PilotProcess.Timeout();
        using var directory = new TempDirectory();
        string[] Args(string path) => flag.Length == 0 ? ["-config", path] : [flag, "-config", path];

        var missing = await PilotProcess.RunAsync(Args("/nonexistent/pilot.json5"), timeout.Token);
        var isDirectory = await PilotProcess.RunAsync(Args(directory.Path), timeout.Token);

        missing.ExitCode.ShouldBe(1);
        missing.Stdout.ShouldContain(" could not read config file: open /nonexistent/pilot.json5: no such file or directory\n");
        isDirectory.ExitCode.ShouldBe(1);
        isDirectory.Stdout.ShouldContain($" could not read config file: read {directory.Path}: is a directory\n");
        (missing.Stdout + isDirectory.Stdout).ShouldNotContain("Exception");
    }
}
