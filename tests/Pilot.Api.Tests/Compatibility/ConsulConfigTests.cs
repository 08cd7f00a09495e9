using Pilot.Api.Tests.Support;
using Shouldly;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part B §1 (the <c>consul</c> configuration): forms, resolution, environment, messages.</summary>
public sealed class ConsulConfigTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ConsulObject_KeepsMapstructuresMessages()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("{ consul: { datacenter: 'dc2', tls: { foo: 1, verify: 'yes' } } }", timeout.Token);

        outcome.ShouldReport("consul.datacenter", "'' has invalid keys: datacenter");
        outcome.ShouldReport("consul.tls.foo", "'tls' has invalid keys: foo");
        outcome.ShouldReport("consul.tls.verify", "cannot parse 'tls.verify' as bool: strconv.ParseBool: parsing \"yes\": invalid syntax");
    }

    [Theory]
    [InlineData("5", "no discovery backend defined")]
    [InlineData("[]", "no discovery backend defined")]
    [InlineData("true", "no discovery backend defined")]
    [InlineData("'httpshttps://c:8500'", "Unknown protocol scheme: httpshttps")]
    public async Task ConsulValue_ThatV3Refuses_IsRefusedWithV3sMessage(string consul, string message)
    {
        using var timeout = PilotProcess.Timeout();

        (await ConfigCheck.ValidateAsync($"{{ consul: {consul} }}", timeout.Token)).ShouldReport("consul", message);
    }

    /// <summary>
    /// Where requests go and with which token: the string form with a scheme prefix (only one prefix is stripped,
    /// then a remaining <c>http://</c> decides); the object form with an empty address taking
    /// <c>CONSUL_HTTP_ADDR</c>; <c>CONSUL_HTTP_TOKEN</c> overriding the config's token and applying to the string form
    /// too; an unreachable agent not stopping the jobs.
    /// </summary>
    [Fact]
    public async Task ConsulAddressAndToken_ResolveLikeV3_FromConfigAndEnvironment()
    {
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(2));
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        static string Config(string consul, string name) => $$"""
            {
              consul: {{consul}},
              control: { socket: "SOCKET" },
              jobs: [ { name: "{{name}}", exec: ["sh", "-c", "echo {{name}}-up; exec sleep 600"], port: 80, interfaces: ["static:10.0.0.1"],
                        health: { exec: "true", interval: 1, ttl: 5 } } ],
            }
            """;
        await using var prefixed = RunningPilot.Start(Config($"\"https://http://{agent.HttpAddress}\"", "svc-prefixed"));
        await using var fromEnvironment = RunningPilot.Start(Config("{ token: 'config-token' }", "svc-env"),
            environment: new Dictionary<string, string> { ["CONSUL_HTTP_ADDR"] = agent.HttpAddress, ["CONSUL_HTTP_TOKEN"] = "env-token" });
        await using var stringToken = RunningPilot.Start(Config($"\"{agent.HttpAddress}\"", "svc-string"),
            environment: new Dictionary<string, string> { ["CONSUL_HTTP_TOKEN"] = "string-token" });
        await using var unreachable = RunningPilot.Start(Config("\"127.0.0.1:1\"", "svc-alone"));

        var prefixedRegister = await agent.WaitForRequestAsync(r => r.Path == "/v1/agent/service/register" && r.Body.Contains("svc-prefixed", StringComparison.Ordinal), Wait);
        var envRegister = await agent.WaitForRequestAsync(r => r.Path == "/v1/agent/service/register" && r.Body.Contains("svc-env", StringComparison.Ordinal), Wait);
        var stringRegister = await agent.WaitForRequestAsync(r => r.Path == "/v1/agent/service/register" && r.Body.Contains("svc-string", StringComparison.Ordinal), Wait);
        await unreachable.WaitForLineAsync("svc-alone-up", timeout.Token);

        prefixedRegister.Token.ShouldBeNull();
        envRegister.Token.ShouldBe("env-token");
        stringRegister.Token.ShouldBe("string-token");
        unreachable.Output.ShouldNotContain("Unhandled exception");
    }
}
