using Pilot.Supervisor.Config;
using Shouldly;

namespace Pilot.Supervisor.Tests.Config;

/// <summary><c>health.http</c> / <c>health.status</c> / <c>health.tcp</c>: parsed, defaulted, and refused with the field named.</summary>
public sealed class NetworkCheckConfigTests
{
    private static ConfigResult Load(string health) =>
        ConfigLoader.Parse($$"""{ jobs: [ { name: "web", exec: "web", health: { {{health}}, interval: 5, ttl: 10 } } ] }""", new Dictionary<string, string>());

    private static HealthConfig Valid(string health)
    {
        var result = Load(health);
        result.Errors.ShouldBeEmpty(string.Join("\n", result.Errors));
        return result.Config!.Jobs[0].Health!;
    }

    private static ConfigError SingleError(string health) => Load(health).Errors.ShouldHaveSingleItem();

    [Fact]
    public void Http_DefaultsToStatus200To399_AndTheIntervalAsTimeout()
    {
        var health = Valid("""http: "http://localhost:8080/health" """);

        health.Kind.ShouldBe("http");
        health.Http!.Url.ShouldBe(new Uri("http://localhost:8080/health"));
        health.Http.Status.ShouldBe(new StatusRange(200, 399));
        health.Timeout.ShouldBe(TimeSpan.FromSeconds(5));
        health.Exec.ShouldBeNull();
    }

    [Theory]
    [InlineData("\"200-299\"", 200, 299)]
    [InlineData("204", 204, 204)]
    [InlineData("\" 300 - 302 \"", 300, 302)]
    public void HttpStatus_TakesACodeOrARange(string status, int min, int max) =>
        Valid($"""http: "https://db:8443/", status: {status}""").Http!.Status.ShouldBe(new StatusRange(min, max));

    [Fact]
    public void Tcp_TakesHostAndPort_IPv6InBrackets()
    {
        Valid("""tcp: "db:5432" """).Tcp.ShouldBe(new TcpCheckConfig("db", 5432));
        Valid("""tcp: "[::1]:6379" """).Tcp!.ToString().ShouldBe("[::1]:6379");
    }

    [Theory]
    [InlineData("""exec: "true", http: "http://x/" """, "jobs[0].health", "job[web].health can have only one of 'exec', 'http' or 'tcp', got 'exec' and 'http'")]
    [InlineData("""http: "ftp://x/" """, "jobs[0].health.http", "job[web].health.http 'ftp://x/' is not an absolute http:// or https:// URL")]
    [InlineData("""http: "/health" """, "jobs[0].health.http", "job[web].health.http '/health' is not an absolute http:// or https:// URL")]
    [InlineData("""http: "http://x/", status: "299-200" """, "jobs[0].health.status", "job[web].health.status '299-200' is not an HTTP status (100-599) or a range such as \"200-299\"")]
    [InlineData("""http: "http://x/", status: 700 """, "jobs[0].health.status", "job[web].health.status '700' is not an HTTP status (100-599) or a range such as \"200-299\"")]
    [InlineData("""tcp: "db:5432", status: 200 """, "jobs[0].health.status", "job[web].health.status is only for an 'http' check")]
    [InlineData("""tcp: "db" """, "jobs[0].health.tcp", "job[web].health.tcp 'db' is not a \"host:port\" address")]
    [InlineData("""tcp: "db:0" """, "jobs[0].health.tcp", "job[web].health.tcp 'db:0' has no port 1-65535 (\"host:port\")")]
    public void BadNetworkCheck_IsRefused_NamingTheField(string health, string path, string message)
    {
        var error = SingleError(health);

        error.Path.ShouldBe(path);
        error.Message.ShouldBe(message);
        error.Line.ShouldBe(1);
    }

    [Fact]
    public void MisspelledKey_SuggestsTheNetworkCheck() =>
        SingleError("""htp: "http://x/" """).Message.ShouldBe("'[0].health' has invalid keys: htp (did you mean 'http'?)");

    [Fact]
    public void V3Health_WithoutAnyCheck_StaysHeartbeatsOnly() => Valid("""logging: { raw: true }""").Kind.ShouldBeNull();
}
