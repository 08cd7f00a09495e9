using Pilot.Supervisor.Config;
using Pilot.Supervisor.Jobs;
using Shouldly;

namespace Pilot.Supervisor.Tests.Config;

/// <summary>The pure rules behind the drop-in fixes: v3's pid variable names, Consul addresses, timer limits.</summary>
public sealed class DropInRulesTests
{
    [Theory]
    [InlineData("app", "CONTAINERPILOT_APP_PID")]
    [InlineData("my-app", "CONTAINERPILOT_MY_APP_PID")]
    [InlineData("my-app.v2", "CONTAINERPILOT_MY_APP_PID")]
    [InlineData("check.web", "CONTAINERPILOT_CHECK_PID")]
    [InlineData("/usr/bin/node.js", "CONTAINERPILOT_NODE_PID")]
    [InlineData("a..b", "CONTAINERPILOT_A__PID")] // Go: ext ".b" removed, "a." → "A_"
    [InlineData("x.y.y", "CONTAINERPILOT_X_Y_PID")]
    public void PidVariable_FollowsV3sEnvName(string commandName, string expected) =>
        EnvNames.PidVariable(commandName).ShouldBe(expected);

    [Theory]
    [InlineData("http", ":8500", "http://127.0.0.1:8500/")]
    [InlineData("https", "consul.example.com:8501", "https://consul.example.com:8501/")]
    [InlineData("http", "consul", "http://consul/")]
    [InlineData("http", "[::1]:8500", "http://[::1]:8500/")]
    [InlineData("unix", "/run/consul.sock", "http://localhost/")]
    public void ConsulAddress_ResolvesWhatGoDials(string scheme, string address, string expected) =>
        ConsulAddress.Resolve(scheme, address).BaseUri!.ToString().ShouldBe(expected);

    [Theory]
    [InlineData("http", "[::1", "is not host:port")]
    [InlineData("http", "c:99999", "is not host:port")]
    [InlineData("http", "a b:1", "is not host:port")]
    [InlineData("http", "c:8500/path", "is not host:port")]
    [InlineData("http", "user@c:8500", "is not host:port")]
    [InlineData("unix", "", "has no socket path")]
    [InlineData("ftp", "c:1", "Unknown protocol scheme: ftp")]
    public void ConsulAddress_RefusesWhatNoClientCanUse(string scheme, string address, string expected)
    {
        var (uri, error) = ConsulAddress.Resolve(scheme, address);
        uri.ShouldBeNull();
        error!.ShouldContain(expected);
    }

    [Fact]
    public void Config_WithTheLongestTimer_IsValid_AndOneMillisecondMoreIsNot()
    {
        var ok = ConfigLoader.Parse("""{ consul: "c:1", jobs: [{ name: "a", exec: "true", when: { interval: "1193h2m47.294s" } }] }""", new Dictionary<string, string>());
        ok.IsValid.ShouldBeTrue(string.Join("\n", ok.Errors));
        var tooLong = ConfigLoader.Parse("""{ consul: "c:1", jobs: [{ name: "a", exec: "true", when: { interval: "1193h2m47.295s" } }] }""", new Dictionary<string, string>());
        tooLong.Errors.ShouldHaveSingleItem().Path.ShouldBe("jobs[0].when.interval");
    }

    [Fact]
    public void LoadedJson_IsTheRenderedConfig_WithTheConsulTokenRedacted()
    {
        var result = ConfigLoader.Parse("""{ consul: { address: "c:1", token: "s3cret" }, jobs: [{ name: "{{ .NAME }}", exec: ["true"] }] }""",
            new Dictionary<string, string> { ["NAME"] = "rendered" });
        result.IsValid.ShouldBeTrue(string.Join("\n", result.Errors));
        result.Config!.LoadedJson.ShouldBe("""{"consul":{"address":"c:1","token":"<redacted>"},"jobs":[{"name":"rendered","exec":["true"]}]}""");
    }
}
