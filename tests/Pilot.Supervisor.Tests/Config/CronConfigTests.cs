using Pilot.Supervisor.Config;
using Shouldly;

namespace Pilot.Supervisor.Tests.Config;

/// <summary><c>when.cron</c>: parsed as a periodic job, refused with the field named when bad or beside interval/once/each.</summary>
public sealed class CronConfigTests
{
    private static ConfigResult Load(string when) =>
        ConfigLoader.Parse($$"""{ jobs: [ { name: "backup", exec: "backup", when: { {{when}} } } ] }""", new Dictionary<string, string>());

    [Theory]
    [InlineData("0 3 * * *")]
    [InlineData("*/5 * * * * *")]
    [InlineData("@daily")]
    public void Cron_MakesAPeriodicJob_WithUnlimitedRestartsAndNoRunTimeout(string expression)
    {
        var result = Load($"cron: \"{expression}\"");

        result.Errors.ShouldBeEmpty(string.Join("\n", result.Errors));
        var job = result.Config!.Jobs.ShouldHaveSingleItem();
        job.When.Cron!.Text.ShouldBe(expression);
        job.When.IsPeriodic.ShouldBeTrue();
        job.When.Interval.ShouldBeNull();
        job.Restarts.ShouldBe(JobConfig.UnlimitedRestarts);
        job.Timeout.ShouldBeNull();
    }

    [Theory]
    [InlineData("cron: \"61 * * * *\"", "unable to parse job[backup].when.cron '61 * * * *': ")]
    [InlineData("cron: \"* * *\"", "unable to parse job[backup].when.cron '* * *': a cron expression has 5 fields (minute hour day month weekday) or 6 (seconds first), got 3")]
    [InlineData("cron: \"0 0 30 2 *\"", "unable to parse job[backup].when.cron '0 0 30 2 *': it never fires (no such date)")]
    [InlineData("cron: \"0 3 * * *\", interval: \"1h\"", "job[backup].when.cron cannot be used with 'interval': a job runs on a schedule or on events, not both")]
    [InlineData("cron: \"0 3 * * *\", source: \"db\", once: \"healthy\"", "job[backup].when.cron cannot be used with 'once': a job runs on a schedule or on events, not both")]
    public void BadCron_IsRefused_NamingTheField(string when, string message)
    {
        var error = Load(when).Errors.ShouldHaveSingleItem();

        error.Path.ShouldBe("jobs[0].when.cron");
        error.Message.ShouldStartWith(message);
        error.Line.ShouldBe(1);
    }

    [Fact]
    public void MisspelledCron_SuggestsIt() =>
        Load("corn: \"0 3 * * *\"").Errors.ShouldHaveSingleItem().Message.ShouldBe("'[0].when' has invalid keys: corn (did you mean 'cron'?)");
}
