using Pilot.Supervisor.Config;
using Pilot.Supervisor.Events;
using Shouldly;
using static Pilot.Supervisor.Tests.Config.ConfigText;

namespace Pilot.Supervisor.Tests.Config;

public sealed class ConfigLoaderTests
{
    [Fact]
    public void LoggingKeepLines_DefaultsTo1000_AndIsReadWhenGiven()
    {
        Valid("{ }").Logging.KeepLines.ShouldBe(LoggingConfig.DefaultKeepLines);
        Valid("{ logging: { keepLines: 50 } }").Logging.KeepLines.ShouldBe(50);
        Valid("{ logging: { keepLines: 0 } }").Logging.KeepLines.ShouldBe(0);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("100001")]
    public void LoggingKeepLines_IsRejected_WhenOutOfRange(string value)
    {
        var error = SingleError($"{{ logging: {{ keepLines: {value} }} }}");

        error.Path.ShouldBe("logging.keepLines");
        error.Message.ShouldBe($"logging.keepLines must be between 0 and 100000, got {value}");
    }

    [Fact]
    public void Defaults_AreV3s()
    {
        var config = Valid("{ jobs: [ { name: 'app', exec: 'app --flag' } ] }");

        config.Consul.ShouldBeNull();
        config.StopTimeout.ShouldBe(TimeSpan.FromSeconds(5));
        config.Control.SocketPath.ShouldBe("/var/run/containerpilot.socket");
        config.Control.SocketMode.ShouldBe(Convert.ToInt32("600", 8));
        var job = config.Jobs.ShouldHaveSingleItem();
        job.Exec.ShouldBe(new CommandSpec("app", ["--flag"]));
        job.Restarts.ShouldBe(0);
        job.When.Trigger.ShouldBe(Event.GlobalStartup);
        job.When.StartsLimit.ShouldBe(1);
        job.Interfaces.ShouldBe(["eth0:inet", "inet"]);
    }

    [Fact]
    public void PeriodicJob_DefaultsToUnlimitedRestartsAndTimeoutEqualToInterval()
    {
        var job = Valid("{ jobs: [ { name: 'tick', exec: 'true', when: { interval: '1m30s' } } ] }").Jobs[0];

        job.When.Interval.ShouldBe(TimeSpan.FromSeconds(90));
        job.Restarts.ShouldBe(JobConfig.UnlimitedRestarts);
        job.Timeout.ShouldBe(TimeSpan.FromSeconds(90));
    }

    [Theory]
    [InlineData("5", 5_000)]
    [InlineData("'5'", 5_000)]
    [InlineData("'250ms'", 250)]
    [InlineData("'1h30m'", 5_400_000)]
    public void Durations_AreSecondsWhenBareElseGoDurations(string value, int milliseconds)
    {
        var job = Valid($"{{ jobs: [ {{ name: 'a', exec: 'true', timeout: {value} }} ] }}").Jobs[0];

        job.Timeout.ShouldBe(TimeSpan.FromMilliseconds(milliseconds));
    }

    [Theory]
    [InlineData("1.5", "unable to parse job[a].timeout '1.5': time: missing unit in duration 1.5")]
    [InlineData("'xx'", "unable to parse job[a].timeout 'xx': time: invalid duration xx")]
    [InlineData("'20yy'", "unable to parse job[a].timeout '20yy': time: unknown unit yy in duration 20yy")]
    [InlineData("0", "job[a].timeout '0' cannot be less than 1ms")]
    public void BadDuration_IsRejectedWithV3sMessage(string value, string message)
    {
        var error = SingleError($"{{ jobs: [ {{ name: 'a', exec: 'true', timeout: {value} }} ] }}");

        error.Path.ShouldBe("jobs[0].timeout");
        error.Message.ShouldBe(message);
        error.Line.ShouldBe(1);
    }

    [Theory]
    [InlineData("'unlimited'", -1)]
    [InlineData("'never'", 0)]
    [InlineData("3", 3)]
    [InlineData("'3'", 3)]
    [InlineData("1.2", 1)]
    public void Restarts_AcceptV3Forms(string value, int expected) =>
        Valid($"{{ jobs: [ {{ name: 'a', exec: 'true', restarts: {value} }} ] }}").Jobs[0].Restarts.ShouldBe(expected);

    [Theory]
    [InlineData("-1", "job[a].restarts field '-1' invalid: number must be positive integer")]
    [InlineData("'-1'", "job[a].restarts field '-1' invalid: accepts positive integers, \"unlimited\", or \"never\"")]
    [InlineData("'always'", "job[a].restarts field 'always' invalid: accepts positive integers, \"unlimited\", or \"never\"")]
    [InlineData("true", "job[a].restarts field 'true' invalid: accepts positive integers, \"unlimited\", or \"never\"")]
    public void Restarts_RejectsOtherValues(string value, string message) =>
        SingleError($"{{ jobs: [ {{ name: 'a', exec: 'true', restarts: {value} }} ] }}").Message.ShouldBe(message);

    [Fact]
    public void UnlimitedRestarts_WithEach_IsRejected() =>
        SingleError("{ jobs: [ { name: 'a', exec: 'true', restarts: 'unlimited', when: { source: 'b', each: 'healthy' } }, { name: 'b' } ] }")
            .Message.ShouldEndWith("may not be used when 'job.when.each' is set because it may result in infinite processes");

    [Fact]
    public void When_ResolvesTriggersAndCounts()
    {
        var jobs = Valid("""
            { jobs: [
              { name: 'a', exec: 'true' },
              { name: 'b', exec: 'true', when: { source: 'a', once: 'exitSuccess', timeout: '10s' } },
              { name: 'c', exec: 'true', when: { source: 'b', each: 'healthy' } },
              { name: 'd', exec: 'true', when: { source: 'SIGHUP' } },
            ] }
            """).Jobs;

        jobs[1].When.ShouldBe(new WhenConfig { Trigger = new Event(EventCode.ExitSuccess, "a"), StartsLimit = 1, Timeout = TimeSpan.FromSeconds(10) });
        jobs[2].When.ShouldBe(new WhenConfig { Trigger = new Event(EventCode.StatusHealthy, "b"), StartsLimit = -1, IsEach = true });
        jobs[3].When.Trigger.ShouldBe(new Event(EventCode.Signal, "SIGHUP"));
        jobs[3].When.StartsLimit.ShouldBe(-1);
    }

    [Theory]
    [InlineData("{ interval: '1s', once: 'startup' }", "when", "job[a].when can have only one of 'interval', 'once', or 'each'")]
    [InlineData("{ source: 'b', once: 'exploded' }", "when.once", "unable to parse job[a].when.event: exploded is not a valid event code")]
    [InlineData("{ interval: '0.1ms' }", "when.interval", "job[a].when.interval '0.1ms' cannot be less than 1ms")]
    public void When_RejectsV3sInvalidForms(string when, string path, string message)
    {
        var error = SingleError($"{{ jobs: [ {{ name: 'a', exec: 'true', when: {when} }}, {{ name: 'b' }} ] }}");

        error.Path.ShouldBe("jobs[0]." + path);
        error.Message.ShouldBe(message);
    }

    [Fact]
    public void ServiceJob_NeedsHealthAndAValidName_AllErrorsReportedTogether()
    {
        var result = Load("""
            {
              jobs: [
                { name: 'Bad_Name', exec: 'true', port: 80 },
                { name: 'b', port: 80, health: { exec: 'true', interval: 0, ttl: 0 }, initial_status: 'great' },
              ],
            }
            """);

        result.Errors.Select(e => (e.Path, e.Message, e.Line)).ShouldBe(
        [
            ("jobs[0]", "job[Bad_Name].health must be set if 'port' is set", 3),
            ("jobs[0].name", "service names must be alphanumeric with dashes to comply with service discovery", 3),
            ("jobs[1].health.interval", "job[b].health.interval must be > 0", 4),
            ("jobs[1].health.ttl", "job[b].health.ttl must be > 0", 4),
            ("jobs[1].name", "service names must be alphanumeric with dashes to comply with service discovery", 4),
            ("jobs[1].initial_status", "job[b].initialStatus must be one of 'passing', 'warning' or 'critical'", 4),
        ], ignoreOrder: true);
    }

    [Theory]
    [InlineData("['eth0', 'eth0:inet6', 'eth0[1]', '10.0.0.0/16', 'static:10.1.2.3', 'inet', 'inet6', 'lo0']", null)]
    [InlineData("['br-1a2b']", "Unable to parse interface spec: br-1a2b")]
    [InlineData("['eth0:inet5']", "Unable to parse interface spec: eth0:inet5")]
    [InlineData("['static:abcdef']", "Unable to parse static ip static: in static:abcdef")]
    [InlineData("5", "unexpected argument type: float64")]
    public void Interfaces_AreCheckedForSyntax(string interfaces, string? error)
    {
        var result = Load($"{{ jobs: [ {{ name: 'app', port: 80, interfaces: {interfaces}, health: {{ exec: 'true', interval: 1, ttl: 5 }} }} ] }}");

        if (error is null)
        {
            result.Errors.ShouldBeEmpty();
        }
        else
        {
            result.Errors.ShouldContain(e => e.Path == "jobs[0].interfaces" && e.Message == error);
        }
    }

    [Fact]
    public void UnknownTopLevelKey_IsRejectedWithSuggestion() =>
        SingleError("{ job: [] }").Message.ShouldBe("unknown config keys: [job] (did you mean 'jobs'?)");

    [Fact]
    public void KeysMatchCaseInsensitively_AndWeakTypesConvert()
    {
        var job = Valid("{ jobs: [ { NAME: 'ab', EXEC: ['prog', 8080, 1.5, true], port: '80', health: { exec: 'true', interval: '2', ttl: 10 }, tags: [1, 'x'] } ] }").Jobs[0];

        job.Exec.ShouldBe(new CommandSpec("prog", ["8080", "1.5", "true"]));
        job.Port.ShouldBe(80);
        job.Health!.Interval.ShouldBe(TimeSpan.FromSeconds(2));
        job.Tags.ShouldBe(["1", "x"]);
    }

    [Fact]
    public void PrivateFieldKeys_AreAcceptedWithAWarning()
    {
        var config = Valid("{ jobs: [ { name: 'a', exec: 'true', ttl: 5 } ] }");

        config.Warnings.ShouldContain(w => w.Contains("'ttl' is ignored", StringComparison.Ordinal));
    }

    [Fact]
    public void Warnings_NameTrapsUnknownSourcesAndCycles()
    {
        var config = Valid("""
            { jobs: [
              { name: 'a', exec: 'true', when: { once: 'startup' } },
              { name: 'b', exec: 'true', when: { source: 'consol', once: 'healthy' } },
              { name: 'c', exec: 'true', when: { source: 'd', once: 'exitSuccess' } },
              { name: 'd', exec: 'true', when: { source: 'c', once: 'exitSuccess' } },
              { name: 'e', exec: 'true', when: {} },
            ] }
            """);

        config.Warnings.ShouldContain(w => w.Contains("job[a].when has no 'source'", StringComparison.Ordinal));
        config.Warnings.ShouldContain(w => w.Contains("job[b].when.source: \"consol\" is not a job, a watch or a known event", StringComparison.Ordinal));
        config.Warnings.ShouldContain(w => w.Contains("c → d → c", StringComparison.Ordinal));
        config.Warnings.ShouldContain(w => w.Contains("job[e].when has no 'once' or 'each'", StringComparison.Ordinal));
    }

    [Fact]
    public void Consul_StringAndObjectForms_AndEnvironmentOverrides()
    {
        Valid("{ consul: 'https://consul:8501' }").Consul.ShouldBe(new ConsulConfig { Address = "consul:8501", Scheme = "https" });
        Valid("{ consul: 'unix:///run/consul.sock' }").Consul!.Scheme.ShouldBe("unix");
        var fromObject = Valid("{ consul: { address: 'c:8500', token: 'config-token', tls: { verify: true } } }",
            new Dictionary<string, string> { ["CONSUL_HTTP_TOKEN"] = "env-token" }).Consul!;
        fromObject.Token.ShouldBe("env-token");
        fromObject.Tls.Verify.ShouldBeTrue();
        SingleError("{ consul: 'httpshttps://c:8500' }").Message.ShouldBe("Unknown protocol scheme: httpshttps");
        SingleError("{ consul: 5 }").Message.ShouldBe("no discovery backend defined");
    }

    [Fact]
    public void Watches_WithoutConsul_AreAnError() =>
        SingleError("{ watches: [ { name: 'app', interval: 5 } ] }").Path.ShouldBe("watches");

    [Fact]
    public void Telemetry_AndMetrics_AreValidated()
    {
        var telemetry = Valid("{ telemetry: { port: 9100, metrics: [ { namespace: 'ns', name: 'jobs_done', help: 'h', type: 'counter' } ] } }").Telemetry!;
        telemetry.Port.ShouldBe(9100);
        telemetry.Metrics[0].ExportedName.ShouldBe("ns_jobs_done");
        telemetry.Metrics[0].V3Key.ShouldBe("ns__jobs_done");

        var result = Load("{ telemetry: { metrics: [ { name: 'x', help: 'h', type: 'meter' }, { name: 'y', type: 'gauge' } ] } }");
        result.Errors.Select(e => e.Message).ShouldBe(
        [
            "invalid metric type: meter",
            "descriptor Desc{fqName: \"y\", help: \"\", constLabels: {}, variableLabels: []} is invalid: empty help string",
        ], ignoreOrder: true);
    }

    [Fact]
    public void Template_RendersEnvironment_AndMissingKeysAreEmpty()
    {
        var config = Valid("""{ stopTimeout: {{ .STOP | default 7 }}, jobs: [ { name: '{{ .NAME }}x', exec: 'echo {{ env "A" }}' } ] }""",
            new Dictionary<string, string> { ["A"] = "x=y" });

        config.StopTimeout.ShouldBe(TimeSpan.FromSeconds(7));
        config.Jobs[0].Name.ShouldBe("x");
        config.Jobs[0].Exec!.Arguments.ShouldBe(["x=y"]);
    }

    [Fact]
    public void TemplateError_IsReportedWithV3Prefix() =>
        SingleError("{ a: {{ loop 1 2 3 }} }").Message.ShouldStartWith("could not apply template to config: ");

    [Fact]
    public void SyntaxError_GivesLineColumnAndExcerpt()
    {
        var error = SingleError("{\n  jobs: [\n    { name: 'a' exec: 'x' },\n  ],\n}");

        error.Line.ShouldBe(3);
        error.Message.ShouldBe("parse error at line:col [3:17]: invalid character 'e' after object key:value pair\n    2:   jobs: [\n    3:     { name: 'a' exec: 'x' },\n-----------------------^");
    }

    [Fact]
    public void LoadFile_ReportsAMissingFile() =>
        ConfigLoader.LoadFile("/nonexistent/pilot.json5", new Dictionary<string, string>()).Errors.ShouldHaveSingleItem()
            .Message.ShouldStartWith("could not read config file: ");
}
