using Pilot.Supervisor.Config;
using Shouldly;

namespace Pilot.Supervisor.Tests.Config;

/// <summary>
/// <c>health.notify</c>: a boolean; alone it needs neither <c>interval</c> nor <c>ttl</c>, with a check or a port they
/// keep v3's rule; refused with the field, its line and a suggestion for a misspelt key.
/// </summary>
public sealed class NotifyConfigTests
{
    private static ConfigResult Load(string job) =>
        ConfigLoader.Parse($$"""
            { jobs: [
              { name: "web", {{job}} },
              { name: "on-ready", exec: "true", when: { source: "web", once: "healthy" } },
            ] }
            """, new Dictionary<string, string>());

    private static JobConfig Valid(string job)
    {
        var result = Load(job);
        result.Errors.ShouldBeEmpty(string.Join("\n", result.Errors));
        return result.Config!.Jobs[0];
    }

    [Fact]
    public void NotifyAlone_NeedsNoIntervalNorTtl_AndCountsAsAHealthSource()
    {
        var result = Load("""exec: "web", health: { notify: true }""");

        result.Errors.ShouldBeEmpty();
        var health = result.Config!.Jobs[0].Health!;
        health.Notify.ShouldBeTrue();
        health.Kind.ShouldBeNull();
        health.Interval.ShouldBe(TimeSpan.Zero);
        // on-ready waits for "healthy" from a job that has no check but notifies: no "never comes" warning.
        result.Config.Warnings.ShouldNotContain(w => w.Contains("never comes", StringComparison.Ordinal));
    }

    [Fact]
    public void NotifyWithTtl_IsAWatchdog_AndWithACheck_KeepsIt()
    {
        Valid("""exec: "web", health: { notify: true, ttl: 3 }""").Health!.TtlSeconds.ShouldBe(3);
        var both = Valid("""exec: "web", health: { notify: true, exec: "check", interval: 2, ttl: 5 }""").Health!;
        both.Notify.ShouldBeTrue();
        both.Kind.ShouldBe("exec");
    }

    [Fact]
    public void NotifyFalse_IsAsIfAbsent_WithV3sRules()
    {
        var result = Load("""exec: "web", health: { notify: false }""");

        result.Errors.Select(e => e.Message).ShouldBe(["job[web].health.interval must be > 0", "job[web].health.ttl must be > 0"]);
    }

    [Theory]
    [InlineData("""exec: "web", health: { notify: "yes", interval: 5, ttl: 5 }""", "jobs[0].health.notify", "job[web].health.notify must be true or false, got \"yes\"")]
    [InlineData("""exec: "web", health: { notify: 1, interval: 5, ttl: 5 }""", "jobs[0].health.notify", "job[web].health.notify must be true or false, got 1")]
    [InlineData("""health: { notify: true }""", "jobs[0].health.notify", "job[web].health.notify needs an 'exec': its process is what says it is ready")]
    [InlineData("""exec: "web", health: { notify: true, exec: "check" }""", "jobs[0].health.interval",
        "job[web].health.interval must be > 0 (with notify too: its check runs every interval)")]
    [InlineData("""exec: "web", port: 80, health: { notify: true, interval: 5 }""", "jobs[0].health.ttl",
        "job[web].health.ttl must be > 0 (with notify too: the job has a port, and Consul's TTL check needs its ttl)")]
    [InlineData("""exec: "web", health: { notify: true, ttl: -1 }""", "jobs[0].health.ttl", "job[web].health.ttl must be > 0")]
    [InlineData("""exec: "web", health: { notfy: true, interval: 5, ttl: 5 }""", "jobs[0].health.notfy", "'[0].health' has invalid keys: notfy (did you mean 'notify'?)")]
    public void BadNotify_IsRefused_NamingTheFieldAndLine(string job, string path, string message)
    {
        var error = Load(job).Errors.ShouldHaveSingleItem();

        error.Path.ShouldBe(path);
        error.Message.ShouldBe(message);
        error.Line.ShouldBe(2);
    }
}
