using System.Diagnostics;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part A §1 (config file handling), checked on the real <c>pilot</c> binary.</summary>
public sealed class ConfigFileTests
{
    private const int SIGTERM = 15;

    [Fact]
    public async Task ConfigPath_IsTheFlagElseContainerpilotVariable_AndIsRequired()
    {
        using var timeout = PilotProcess.Timeout();
        using var directory = new TempDirectory();
        var config = directory.File("pilot.json5");
        File.WriteAllText(config, """
            { control: { socket: "SOCK" }, jobs: [ { name: "hello", exec: ["sh", "-c", "echo {{ .GREETING }}-from-config"] } ] }
            """.Replace("SOCK", directory.File("pilot.socket"), StringComparison.Ordinal));
        var greeting = new Dictionary<string, string> { ["GREETING"] = "hi" };

        var missing = await PilotProcess.RunAsync([], timeout.Token);
        var fromVariable = await PilotProcess.RunAsync([], timeout.Token, new Dictionary<string, string>(greeting) { ["CONTAINERPILOT"] = config });
        var flagWins = await PilotProcess.RunAsync(["-config", config], timeout.Token,
            new Dictionary<string, string>(greeting) { ["CONTAINERPILOT"] = directory.File("absent.json5") });
        var unreadable = await PilotProcess.RunAsync(["-config", directory.File("absent.json5")], timeout.Token);

        missing.ExitCode.ShouldBe(1);
        missing.Stdout.ShouldMatch(@"^\S+ -config flag is required\n$");
        fromVariable.ExitCode.ShouldBe(0, fromVariable.Stdout);
        fromVariable.Stdout.ShouldContain("hi-from-config", customMessage: "the file is rendered as a template before it is parsed");
        flagWins.ExitCode.ShouldBe(0, flagWins.Stdout);
        flagWins.Stdout.ShouldContain("hi-from-config");
        unreadable.ExitCode.ShouldBe(1);
        unreadable.Stdout.ShouldContain("could not read config file: ");
    }

    [Theory]
    [InlineData("[]", "array")]
    [InlineData("5", "number")]
    [InlineData("'text'", "string")]
    [InlineData("true", "bool")]
    public async Task TopLevel_MustBeAnObject_WithGoJsonTypeName(string config, string kind)
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync(config, timeout.Token);

        outcome.ShouldReport("", $"could not parse configuration: json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}");
    }

    [Fact]
    public async Task TopLevel_NullIsAnEmptyConfig()
    {
        using var timeout = PilotProcess.Timeout();

        (await ConfigCheck.ValidateAsync("null", timeout.Token)).ShouldBeValid();
    }

    [Fact]
    public async Task TopLevelKeys_AreExactAndCaseSensitive_AndSectionsKeepV3Messages()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("""
            {
              Jobs: [],
              stopTimeout: "10s",
              control: { sock: "x" },
              logging: { level: "loud", format: "xml", colour: 1 },
            }
            """, timeout.Token);

        outcome.ShouldReport("Jobs", "unknown config keys: [Jobs] (did you mean 'jobs'?)");
        outcome.ShouldReport("stopTimeout", "cannot parse '' as int: strconv.ParseInt: parsing \"10s\": invalid syntax");
        outcome.ShouldReport("control.sock", "'' has invalid keys: sock");
        outcome.ShouldReport("logging.level", "Unknown log level 'loud': not a valid logrus Level: \"loud\"");
        outcome.ShouldReport("logging.format", "Unknown log format 'xml'");
        outcome.ShouldReport("logging.colour", "'' has invalid keys: colour");
    }

    [Fact]
    public async Task Sections_ThatAreNotObjects_AreRefusedWithMapstructuresMessage()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("{ control: 5, logging: 'debug', telemetry: true }", timeout.Token);

        outcome.ShouldReport("control", "'' expected a map, got 'float64'");
        outcome.ShouldReport("logging", "'' expected a map, got 'string'");
        outcome.ShouldReport("telemetry", "'' expected a map, got 'bool'");
    }

    [Fact]
    public async Task ControlSocket_ThatIsEmpty_IsRefused()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("{ control: { socket: '' } }", timeout.Token);

        outcome.ShouldReport("control.socket", "control: validate failed with control server not loading due to missing config");
    }

    [Fact]
    public async Task JobsAndWatches_ThatAreNotArrays_AreIgnored_AndNullItemsSkipped()
    {
        using var timeout = PilotProcess.Timeout();
        var notArrays = await ConfigCheck.ValidateAsync("{ jobs: { name: 'a' }, watches: 'app' }", timeout.Token);
        await using var pilot = RunningPilot.Start("""
            { control: { socket: "SOCKET" }, jobs: [ null, { name: "only", exec: ["sh", "-c", "echo only-ran"] }, null ] }
            """);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);

        notArrays.ShouldBeValid();
        notArrays.Stdout.ShouldContain("warning: jobs (line 1): is not an array, so it is ignored");
        notArrays.Stdout.ShouldContain("warning: watches (line 1): is not an array, so it is ignored");
        pilot.Output.ShouldContain("only-ran");
    }

    [Fact]
    public async Task SyntaxError_ShowsPositionPreviousAndFailingLineAndCaret()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("{\n  jobs: [\n    { name: 'a' exec: 'x' },\n  ],\n}", timeout.Token);

        outcome.ExitCode.ShouldBe(1);
        outcome.Stdout.ShouldStartWith(
            "error: parse error at line:col [3:17]: invalid character 'e' after object key:value pair (line 3)\n"
            + "    2:   jobs: [\n"
            + "    3:     { name: 'a' exec: 'x' },\n"
            + "-----------------------^\n");
    }

    /// <summary>Every duration field with a value its parser refuses, one job each; all reported in one run.</summary>
    [Fact]
    public async Task Durations_ThatV3Refuses_AreRefusedWithV3sMessages()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("""
            {
              consul: "localhost:8500",
              jobs: [
                { name: "j0", exec: "true", timeout: 1.5 },
                { name: "j1", exec: "true", timeout: "xx" },
                { name: "j2", exec: "true", timeout: "20yy" },
                { name: "j3", exec: "true", timeout: "0" },
                { name: "j4", exec: "true", timeout: "-5" },
                { name: "j5", exec: "true", when: { interval: "0.5ms" } },
                { name: "j6", exec: "true", when: { interval: "xx" } },
                { name: "j7", exec: "true", when: { source: "j0", once: "exitSuccess", timeout: "xx" } },
                { name: "j8", exec: "true", stopTimeout: "xx" },
                { name: "j9", exec: "true", health: { interval: 1, ttl: 1, timeout: "xx" } },
                { name: "j10", exec: "true", health: { interval: "5s", ttl: 1 } },
                { name: "svc", exec: "true", port: 80, interfaces: ["static:10.0.0.1"], health: { interval: 1, ttl: 5 },
                  consul: { deregisterCriticalServiceAfter: "10" } },
                { name: "svc-two", exec: "true", port: 80, interfaces: ["static:10.0.0.1"], health: { interval: 1, ttl: 5 },
                  consul: { enableTagOverride: true } },
              ],
            }
            """, timeout.Token);

        outcome.ShouldReport("jobs[0].timeout", "unable to parse job[j0].timeout '1.5': time: missing unit in duration 1.5");
        outcome.ShouldReport("jobs[1].timeout", "unable to parse job[j1].timeout 'xx': time: invalid duration xx");
        outcome.ShouldReport("jobs[2].timeout", "unable to parse job[j2].timeout '20yy': time: unknown unit yy in duration 20yy");
        outcome.ShouldReport("jobs[3].timeout", "job[j3].timeout '0' cannot be less than 1ms");
        outcome.ShouldReport("jobs[4].timeout", "job[j4].timeout '-5' cannot be less than 1ms");
        outcome.ShouldReport("jobs[5].when.interval", "job[j5].when.interval '0.5ms' cannot be less than 1ms");
        outcome.ShouldReport("jobs[6].when.interval", "unable to parse job[j6].when.interval 'xx': time: invalid duration xx");
        outcome.ShouldReport("jobs[7].when.timeout", "unable to parse job[j7].when.timeout: time: invalid duration xx");
        outcome.ShouldReport("jobs[8].stopTimeout", "unable to parse job[j8].stopTimeout 'xx': time: invalid duration xx");
        outcome.ShouldReport("jobs[9].health.timeout", "could not parse job[j9].health.timeout 'xx': time: invalid duration xx");
        outcome.ShouldReport("jobs[10].health.interval", "cannot parse '[10].health.interval' as int: strconv.ParseInt: parsing \"5s\": invalid syntax");
        outcome.ShouldReport("jobs[11].consul.deregisterCriticalServiceAfter",
            "unable to parse job[svc].consul.deregisterCriticalServiceAfter: time: missing unit in duration 10");
        outcome.ShouldReport("jobs[12].consul.deregisterCriticalServiceAfter",
            "unable to parse job[svc-two].consul.deregisterCriticalServiceAfter: time: invalid duration ");
    }

    [Fact]
    public async Task Durations_InEveryFormV3Accepts_AreAccepted()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("""
            {
              consul: "localhost:8500",
              stopTimeout: "7",
              jobs: [
                { name: "j0", exec: "true", timeout: 5 },
                { name: "j1", exec: "true", timeout: "+3" },
                { name: "j2", exec: "true", timeout: "1h30m" },
                { name: "j3", exec: "true", timeout: "1.5s" },
                { name: "j4", exec: "true", timeout: "" },
                { name: "j5", exec: "true", when: { interval: "10" } },
                { name: "j6", exec: "true", when: { interval: "1ms" } },
                { name: "j7", exec: "true", stopTimeout: "-1s", health: { interval: "2", ttl: 5.9, timeout: "0" } },
                { name: "svc", exec: "true", port: 80, interfaces: ["static:10.0.0.1"], health: { interval: 1, ttl: 5 },
                  consul: { deregisterCriticalServiceAfter: "0" } },
              ],
            }
            """, timeout.Token);

        outcome.ShouldBeValid();
    }

    /// <summary>
    /// Top-level <c>stopTimeout</c>: 0 means v3's default of 5 s, a negative value means no wait. A job that ignores
    /// SIGTERM is still alive well after SIGTERM with the first and SIGKILLed at once with the second.
    /// </summary>
    [Fact]
    public async Task StopTimeout_ZeroMeansFiveSeconds_AndNegativeMeansNoWait()
    {
        using var timeout = PilotProcess.Timeout();
        const string Config = """
            {
              control: { socket: "SOCKET" },
              stopTimeout: STOP,
              jobs: [ { name: "stubborn", exec: ["sh", "-c", "trap 'echo got-term' TERM; echo up; while true; do sleep 0.1; done"] } ],
            }
            """;
        await using var zero = RunningPilot.Start(Config.Replace("STOP", "0", StringComparison.Ordinal));
        await using var negative = RunningPilot.Start(Config.Replace("STOP", "\"-1\"", StringComparison.Ordinal));
        await Task.WhenAll(zero.WaitForLineAsync("up", timeout.Token), negative.WaitForLineAsync("up", timeout.Token));
        var clock = Stopwatch.StartNew();

        zero.Signal(SIGTERM);
        negative.Signal(SIGTERM);
        var negativeExit = await negative.WaitForExitAsync(timeout.Token);
        var negativeElapsed = clock.Elapsed;
        var zeroExit = await zero.WaitForExitAsync(timeout.Token);
        var zeroElapsed = clock.Elapsed;

        negativeExit.ShouldBe(0, negative.Output);
        negative.Output.ShouldContain("killing processes for job \"stubborn\"");
        zeroExit.ShouldBe(0, zero.Output);
        zero.Output.ShouldContain("got-term");
        zero.Output.ShouldContain("killing processes for job \"stubborn\"");
        zeroElapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(4.5), "stopTimeout 0 is v3's default window of 5 s");
        negativeElapsed.ShouldBeLessThan(zeroElapsed - TimeSpan.FromSeconds(3), "a negative stopTimeout does not wait");
    }
}
