using Pilot.Supervisor.Config;
using Shouldly;

namespace Pilot.Supervisor.Tests.Config;

/// <summary>The v3 configs of tests/fixtures/conformance (copied from ContainerPilot's docs and tests).</summary>
public sealed class ConformanceTests
{
    private static readonly Dictionary<string, string> Environment = new() { ["CONSUL"] = "consul.example.com" };

    public static string Fixtures(string kind) => Path.Combine(Checkout.Root, "tests/fixtures/conformance", kind);

    public static TheoryData<string> Valid() => [.. Directory.GetFiles(Fixtures("valid"), "*.json5").Select(f => Path.GetFileName(f))];

    [Theory]
    [MemberData(nameof(Valid))]
    public void ValidConfig_IsAccepted(string file)
    {
        var result = ConfigLoader.LoadFile(Path.Combine(Fixtures("valid"), file), Environment);

        result.Errors.ShouldBeEmpty();
        result.Config.ShouldNotBeNull();
    }

    [Theory]
    [InlineData("docs-consul-agent-missing-commas.json5", "", "parse error at line:col [50:5]", 50)]
    [InlineData("docs-nginx-upstreams-syntax.json5", "", "parse error at line:col [58:9]", 58)]
    [InlineData("docs-periodic-tasks-syntax.json5", "", "parse error at line:col [11:7]", 11)]
    [InlineData("docs-database-config.json5", "jobs[0].health.interval", "job[consul-agent].health.interval must be > 0", 12)]
    [InlineData("docs-service-reg-only.json5", "jobs[0].health.interval", "job[consul-agent].health.interval must be > 0", 9)]
    [InlineData("docs-stopping.json5", "jobs[0].health.tll", "'[0].health' has invalid keys: tll (did you mean 'ttl'?)", 16)]
    [InlineData("docs-stopping.json5", "jobs[1].restart", "'[1]' has invalid keys: restart (did you mean 'restarts'?)", 30)]
    [InlineData("jobs-consul-enable-tag-override.json5", "jobs[0].consul.enableTagOverride", "cannot parse '[0].consul.enableTagOverride' as bool", 17)]
    [InlineData("jobs-consul-deregister-critical-service-after.json5", "jobs[0].consul.deregisterCriticalServiceAfter", "time: invalid duration nope", 17)]
    public void InvalidConfig_IsRejected_NamingThePlace(string file, string path, string message, int line)
    {
        var result = ConfigLoader.LoadFile(Path.Combine(Fixtures("invalid"), file), Environment);

        result.IsValid.ShouldBeFalse();
        result.Errors.ShouldContain(e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal) && e.Line == line,
            string.Join("\n", result.Errors));
    }

    [Fact]
    public void EveryInvalidFixture_HasAnExpectation()
    {
        string[] covered =
        [
            "docs-consul-agent-missing-commas.json5", "docs-nginx-upstreams-syntax.json5", "docs-periodic-tasks-syntax.json5",
            "docs-database-config.json5", "docs-service-reg-only.json5", "docs-stopping.json5",
            "jobs-consul-enable-tag-override.json5", "jobs-consul-deregister-critical-service-after.json5",
        ];

        Directory.GetFiles(Fixtures("invalid"), "*.json5").Select(Path.GetFileName).Order().ShouldBe(covered.Order());
    }
}
