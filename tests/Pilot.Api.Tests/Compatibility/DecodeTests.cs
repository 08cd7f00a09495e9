using System.Text.Json;
using Pilot.Api.Tests.Support;
using Shouldly;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part B §7 (decode helpers and coercion) and Part A §1's nested decoding, on the real binary.</summary>
public sealed class DecodeTests
{
    [Fact]
    public async Task JobKeys_DecodeWithMapstructuresRulesAndMessages()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("""
            {
              jobs: [
                { name: "j0", exec: "true", initialStatus: "passing" },
                { NAME: "j1", EXEC: "true", when: { foo: 1, bar: 2 } },
                { name: "j2", exec: "true", port: "abc" },
                { name: "j3", exec: "true", logging: { raw: "maybe" } },
                { name: "j4", exec: "true", tags: "web" },
                { name: "j5", exec: "true", when: 5 },
                { name: "j6", exec: "true", timeout: {} },
                { name: "j7", exec: "true", tags: [{}] },
                { name: "j8", exec: "true", logging: { raw: [] } },
                { name: "j9", exec: "true", port: [] },
                7,
              ],
            }
            """, timeout.Token);

        outcome.ShouldReport("jobs[0].initialStatus", "'[0]' has invalid keys: initialStatus (did you mean 'initial_status'?)");
        outcome.ShouldReport("jobs[1].when.bar", "'[1].when' has invalid keys: bar");
        outcome.ShouldReport("jobs[1].when.foo", "'[1].when' has invalid keys: foo");
        outcome.ShouldReport("jobs[2].port", "cannot parse '[2].port' as int: strconv.ParseInt: parsing \"abc\": invalid syntax");
        outcome.ShouldReport("jobs[3].logging.raw", "cannot parse '[3].logging.raw' as bool: strconv.ParseBool: parsing \"maybe\": invalid syntax");
        outcome.ShouldReport("jobs[4].tags", "'[4].tags': source data must be an array or slice, got string");
        outcome.ShouldReport("jobs[5].when", "'[5].when' expected a map, got 'float64'");
        outcome.ShouldReport("jobs[6].timeout", "'[6].timeout' expected type 'string', got unconvertible type 'map[string]interface {}'");
        outcome.ShouldReport("jobs[7].tags[0]", "'[7].tags[0]' expected type 'string', got unconvertible type 'map[string]interface {}'");
        outcome.ShouldReport("jobs[8].logging.raw", "'[8].logging.raw' expected type 'bool', got unconvertible type '[]interface {}'");
        outcome.ShouldReport("jobs[9].port", "'[9].port' expected type 'int', got unconvertible type '[]interface {}'");
        outcome.ShouldReport("jobs[10]", "'[10]' expected a map, got 'float64'");
        outcome.Stdout.ShouldNotContain("jobs[1].name", customMessage: "NAME and EXEC match name and exec case-insensitively");
    }

    [Fact]
    public async Task PrivateFieldKeys_AreAcceptedWithAWarning()
    {
        using var timeout = PilotProcess.Timeout();
        string[] privateKeys =
        [
            "serviceDefinition", "healthCheckExec", "heartbeatInterval", "ttl", "execTimeout", "stoppingTimeout",
            "restartLimit", "freqInterval", "whenEvent", "whenTimeout", "whenStartsLimit", "stoppingWaitEvent",
        ];

        var outcome = await ConfigCheck.ValidateAsync(
            $"{{ jobs: [ {{ name: 'a', exec: 'true', {string.Join(", ", privateKeys.Select(k => k + ": 1"))} }} ] }}", timeout.Token);

        outcome.ShouldBeValid();
        foreach (var key in privateKeys)
        {
            outcome.Stdout.ShouldContain($"warning: jobs[0].{key} (line 1): key '{key}' is ignored");
        }
    }

    /// <summary><c>null</c> leaves a field unset (its default) everywhere; an empty object is an empty array.</summary>
    [Fact]
    public async Task Null_LeavesFieldsUnset_AndAnEmptyObjectIsAnEmptyArray()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("""
            {
              consul: "localhost:8500",
              stopTimeout: null, logging: null, control: null, telemetry: null,
              jobs: [
                { name: "a", exec: "true", port: null, tags: null, when: null, health: null, interfaces: null, restarts: null, timeout: null, logging: { raw: null } },
                { name: "b", exec: "true", tags: {} },
              ],
              watches: [ { name: "ab", interval: 1, tag: null, dc: null } ],
            }
            """, timeout.Token);

        outcome.ShouldBeValid();
    }

    [Fact]
    public async Task Exec_OfZeroLength_IsRefused_InEveryForm()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await ConfigCheck.ValidateAsync("""
            {
              jobs: [
                { name: "j0", exec: "" },
                { name: "j1", exec: [] },
                { name: "j2", exec: 5 },
                { name: "j3", exec: {} },
                { name: "j4", exec: true },
                { name: "j5", exec: "true", health: { exec: [], interval: 1, ttl: 1 } },
                { name: "j6", exec: "   " },
                { name: "j7" },
              ],
            }
            """, timeout.Token);

        for (var i = 0; i <= 4; i++)
        {
            outcome.ShouldReport($"jobs[{i}].exec", $"unable to create job[j{i}].exec: received zero-length argument");
        }
        outcome.ShouldReport("jobs[5].health.exec", "unable to create job[j5].health.exec: received zero-length argument");
        outcome.Stdout.ShouldNotContain("jobs[6]", customMessage: "a string of spaces is program \"\" without an error");
        outcome.Stdout.ShouldNotContain("jobs[7]", customMessage: "a job without exec is allowed");
    }

    /// <summary>
    /// Weak typing as mapstructure does it, seen where it lands: the Consul registration (port <c>"0x10"</c> = 16, <c>true</c> = 1,
    /// tags printed as Go prints them, <c>ttl: "010"</c> = 8 in base 0, <c>interval: 1.9</c> truncated), the
    /// command line (a string split on single spaces; array items printed with <c>%v</c>) and <c>logging.raw</c>
    /// (<c>5</c> is true, <c>""</c> false).
    /// </summary>
    [Fact]
    public async Task WeakTyping_ConvertsLikeMapstructure_IntoWhatJobsRunAndRegister()
    {
        using var timeout = PilotProcess.Timeout();
        await using var agent = await TestAgent.StartAsync(cancellationToken: timeout.Token);
        await using var pilot = RunningPilot.Start($$"""
            {
              consul: "{{agent.HttpAddress}}",
              control: { socket: "SOCKET" },
              jobs: [
                {
                  name: "app", exec: "sleep 600", port: "0x10", interfaces: "static:10.1.2.3",
                  tags: [8080, 1.5, true, "web"], health: { exec: "true", interval: 1.9, ttl: "010" },
                  consul: { enableTagOverride: "T", deregisterCriticalServiceAfter: "10m" },
                },
                { name: "flag", exec: "sleep 600", port: true, interfaces: ["static:10.1.2.4"], health: { exec: "true", interval: 1, ttl: 5 } },
                { name: 1e21, exec: "echo big-name" },
                { name: "split", exec: "printf <%s>\\n a  b", logging: { raw: 5 } },
                { name: "items", exec: ["sh", "-c", "echo \"items:[$1][$2][$3][$4][$5][$6]\"", "x", 8080, 1.5, true, null, { k: "v" }, 1e21], logging: { raw: "" } },
              ],
            }
            """);

        var register = await agent.WaitForRequestAsync(r => r.Path == "/v1/agent/service/register" && r.Body.Contains("\"app\"", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var flag = await agent.WaitForRequestAsync(r => r.Path == "/v1/agent/service/register" && r.Body.Contains("\"flag\"", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var bigName = await pilot.WaitForLineAsync("big-name", timeout.Token);
        var items = await pilot.WaitForLineAsync("items:", timeout.Token);
        await pilot.WaitForLineAsync("<b>", timeout.Token);

        using var body = JsonDocument.Parse(register.Body);
        body.RootElement.GetProperty("Port").GetInt32().ShouldBe(16);
        body.RootElement.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()).ShouldBe(["8080", "1.5", "1", "web"]);
        body.RootElement.GetProperty("EnableTagOverride").GetBoolean().ShouldBeTrue();
        body.RootElement.GetProperty("Check").GetProperty("TTL").GetString().ShouldBe("8s");
        JsonDocument.Parse(flag.Body).RootElement.GetProperty("Port").GetInt32().ShouldBe(1, "true is 1 as an int");
        bigName.ShouldMatch(@"^\S+ 1000000000000000000000 \d+ big-name$", "a number as a string is its shortest decimal, without exponent");
        items.ShouldEndWith("items:[8080][1.5][true][<nil>][map[k:v]][1e+21]");
        items.ShouldMatch(@"^\S+ items \d+ items:", "raw: \"\" is false: the line is wrapped");
        var lines = pilot.Lines.ToList();
        var first = lines.IndexOf("<a>");
        first.ShouldBeGreaterThanOrEqualTo(0, "raw: 5 is true: the job's lines are its own, unwrapped\n" + pilot.Output);
        lines.Skip(first).Take(3).ShouldBe(["<a>", "<>", "<b>"], "a string exec is split on single spaces: two spaces give an empty argument");
    }
}
