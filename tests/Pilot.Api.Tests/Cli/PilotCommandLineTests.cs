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

    [Fact]
    public void Parse_IgnoresPositionalArguments()
    {
        Parse("-ping", "extra").Verb.ShouldBe(CliVerb.Ping);
    }

    [Fact]
    public void Usage_ListsEveryFlag()
    {
        var usage = PilotCommandLine.Usage("pilot");

        foreach (var flag in new[] { "-config", "-template", "-out", "-validate", "-version", "-reload", "-maintenance", "-putenv", "-putmetric", "-ping" })
        {
            usage.ShouldContain("  " + flag);
        }
    }
}
