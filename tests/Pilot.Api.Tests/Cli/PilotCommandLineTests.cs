using Pilot.Api.Cli;
using Shouldly;
using Xunit;

namespace Pilot.Api.Tests.Cli;

public sealed class PilotCommandLineTests
{
    private static CliInvocation Parse(params string[] args)
    {
        var result = PilotCommandLine.Parse(args);
        result.Error.ShouldBeNull();
        return result.Invocation!;
    }

    [Theory]
    [InlineData("-config", "/etc/cp.json5")]
    [InlineData("--config", "/etc/cp.json5")]
    [InlineData("-config=/etc/cp.json5")]
    [InlineData("--config=/etc/cp.json5")]
    public void Parse_ReadsConfigPath_InEveryGoFlagSpelling(params string[] args)
    {
        Parse(args).ConfigPath.ShouldBe("/etc/cp.json5");
    }

    [Theory]
    [InlineData(CliVerb.Version, "-version", "-template", "-reload", "-maintenance", "enable", "-putenv", "A=1", "-putmetric", "m=1", "-ping")]
    [InlineData(CliVerb.Template, "-template", "-reload", "-maintenance", "enable", "-putenv", "A=1", "-putmetric", "m=1", "-ping")]
    [InlineData(CliVerb.Validate, "-validate", "-reload", "-ping")]
    [InlineData(CliVerb.Reload, "-ping", "-reload", "-maintenance", "enable", "-putenv", "A=1", "-putmetric", "m=1")]
    [InlineData(CliVerb.Maintenance, "-maintenance", "disable", "-putenv", "A=1", "-putmetric", "m=1", "-ping")]
    [InlineData(CliVerb.PutEnv, "-putmetric", "m=1", "-putenv", "A=1", "-ping")]
    [InlineData(CliVerb.PutMetric, "-ping", "-putmetric", "m=1")]
    [InlineData(CliVerb.Ping, "--ping")]
    [InlineData(CliVerb.Run, "-config", "x")]
    [InlineData(CliVerb.Run)]
    public void Parse_PicksTheFirstVerbInV3Precedence_WhenSeveralAreGiven(CliVerb expected, params string[] args)
    {
        Parse(args).Verb.ShouldBe(expected);
    }

    [Fact]
    public void Parse_CollectsRepeatedPutenv_SplittingOnTheFirstEquals()
    {
        var invocation = Parse("-putenv", "A=1", "--putenv", "B=x=y", "-putenv=A=2", "-putenv", "CLEAR");

        invocation.Environment.ShouldBe(new Dictionary<string, string> { ["A"] = "2", ["B"] = "x=y", ["CLEAR"] = "" }, ignoreOrder: true);
    }

    [Fact]
    public void Parse_CollectsRepeatedPutmetric()
    {
        Parse("-putmetric", "a=1", "-putmetric", "b=2.5").Metrics
            .ShouldBe(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2.5" }, ignoreOrder: true);
    }

    [Fact]
    public void Parse_Fails_WhenPutmetricHasNoEquals()
    {
        PilotCommandLine.Parse(["-putmetric", "m"]).Error
            .ShouldBe("invalid value \"m\" for flag -putmetric: flag value 'm' was not in the format 'key=val'");
    }

    [Theory]
    [InlineData("-bogus")]
    [InlineData("--nope=1")]
    public void Parse_Fails_WhenFlagIsUnknown(string flag)
    {
        PilotCommandLine.Parse([flag]).Error.ShouldBe($"flag provided but not defined: {flag.Split('=')[0]}");
    }

    [Fact]
    public void Parse_Fails_WhenAFlagLacksItsValue()
    {
        PilotCommandLine.Parse(["-config"]).Error.ShouldNotBeNull();
    }

    [Fact]
    public void Parse_ReadsOutAndMaintenanceValues()
    {
        var invocation = Parse("-template", "-out", "-", "-maintenance=enable");

        invocation.OutPath.ShouldBe("-");
        invocation.Maintenance.ShouldBe("enable");
    }

    [Theory]
    [InlineData("-h")]
    [InlineData("-help")]
    [InlineData("--help")]
    public void Parse_AsksForHelp_WithGoHelpFlags(string flag)
    {
        Parse(flag).Verb.ShouldBe(CliVerb.Help);
    }

    [Theory]
    [InlineData("extra", "-ping")]
    [InlineData("-ping", "extra")]
    [InlineData("-config", "x", "statuz")]
    public void Parse_Fails_OnAWordThatIsNotACommand(params string[] args)
    {
        // v3 ignored such words and ran the supervisor.
        PilotCommandLine.Parse(args).Error.ShouldStartWith("unknown command ");
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("Enable")]
    [InlineData("")]
    public void Parse_Fails_WhenMaintenanceIsNeitherEnableNorDisable(string value)
    {
        PilotCommandLine.Parse(["-maintenance", value]).Error
            .ShouldBe($"invalid value \"{value}\" for flag -maintenance: must be 'enable' or 'disable'");
    }

    [Theory]
    [InlineData(CliVerb.Status, "", "status")]
    [InlineData(CliVerb.Status, "", "-config", "/etc/cp.json5", "status", "-json")]
    [InlineData(CliVerb.Logs, "web", "logs", "web", "-f", "-n", "5")]
    [InlineData(CliVerb.Logs, "web", "logs", "--follow", "--lines=5", "web", "-config=/etc/cp.json5")]
    [InlineData(CliVerb.Stop, "web", "stop", "web")]
    [InlineData(CliVerb.Start, "web", "start", "web")]
    [InlineData(CliVerb.Restart, "web", "restart", "web")]
    [InlineData(CliVerb.Events, "", "events")]
    [InlineData(CliVerb.Events, "web", "events", "web", "-json")]
    [InlineData(CliVerb.CommandHelp, "", "help")]
    [InlineData(CliVerb.CommandHelp, "logs", "help", "logs")]
    [InlineData(CliVerb.CommandHelp, "logs", "logs", "-h")]
    public void Parse_ReadsCommands_WithTheirArgumentsAndFlagsInAnyOrder(CliVerb verb, string target, params string[] args)
    {
        var invocation = Parse(args);

        invocation.Verb.ShouldBe(verb);
        invocation.Target.ShouldBe(target);
        if (args.Contains("-config") || args.Contains("-config=/etc/cp.json5"))
        {
            invocation.ConfigPath.ShouldBe("/etc/cp.json5");
        }
        if (verb == CliVerb.Logs)
        {
            invocation.Follow.ShouldBeTrue();
            invocation.Lines.ShouldBe(5);
        }
        invocation.Json.ShouldBe(args.Contains("-json"));
    }

    [Theory]
    [InlineData("logs: missing the job name", "logs")]
    [InlineData("stop: missing the job name", "stop")]
    [InlineData("unexpected argument \"b\" for restart", "restart", "a", "b")]
    [InlineData("flag -ping cannot be used with the status command", "-ping", "status")]
    [InlineData("invalid value \"-3\" for flag -n: must be 0 or more", "logs", "web", "-n", "-3")]
    [InlineData("unknown command \"nope\"", "help", "nope")]
    public void Parse_Fails_WhenACommandIsMisused(string error, params string[] args)
    {
        var result = PilotCommandLine.Parse(args);

        result.Error.ShouldBe(error);
        result.UsageOf.ShouldBe(args.First(a => !a.StartsWith('-')));
    }

    [Fact]
    public void Usage_ListsEveryFlag()
    {
        var usage = PilotCommandLine.Usage("pilot");

        foreach (var flag in new[] { "-config", "-template", "-out", "-validate", "-version", "-reload", "-maintenance", "-putenv", "-putmetric", "-ping" })
        {
            usage.ShouldContain("  " + flag);
        }
        foreach (var command in new[] { "status", "logs JOB", "stop JOB", "start JOB", "restart JOB", "events", "help" })
        {
            usage.ShouldContain("  " + command);
        }
    }
}
