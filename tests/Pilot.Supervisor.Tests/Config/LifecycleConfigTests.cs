using Pilot.Supervisor.Config;
using Pilot.Supervisor.Processes;
using Shouldly;
using static Pilot.Supervisor.Tests.Config.ConfigText;

namespace Pilot.Supervisor.Tests.Config;

/// <summary>The lifecycle extensions of issue 17: defaults are v3's, values are read, bad values named with their path and line.</summary>
public sealed class LifecycleConfigTests
{
    [Fact]
    public void LifecycleFields_DefaultToV3Behaviour()
    {
        var config = Valid("{ jobs: [ { name: 'app', exec: 'app' } ] }");

        config.ShutdownOrder.ShouldBe(ShutdownOrder.Together);
        var job = config.Jobs.ShouldHaveSingleItem();
        job.RestartBackoff.ShouldBeNull();
        job.StopSignal.ShouldBe(SignalNames.SIGTERM);
        job.OnSuccess.ShouldBe(ExitAction.Continue);
        job.OnFailure.ShouldBe(ExitAction.Continue);
    }

    [Fact]
    public void LifecycleFields_AreRead()
    {
        var config = Valid("""
            {
              shutdownOrder: "dependencies",
              jobs: [ {
                name: 'app', exec: 'app', restarts: 'unlimited',
                restartBackoff: { initial: '200ms', factor: 3, max: '1m', jitter: 0.25, resetAfter: '10s' },
                stopSignal: 'SIGQUIT', onSuccess: 'shutdown', onFailure: 'continue',
              } ],
            }
            """);

        config.ShutdownOrder.ShouldBe(ShutdownOrder.Dependencies);
        var job = config.Jobs.ShouldHaveSingleItem();
        job.RestartBackoff.ShouldBe(new RestartBackoffConfig
        {
            Initial = TimeSpan.FromMilliseconds(200), Factor = 3, Max = TimeSpan.FromMinutes(1), Jitter = 0.25, ResetAfter = TimeSpan.FromSeconds(10),
        });
        job.StopSignal.ShouldBe(SignalNames.SIGQUIT);
        job.OnSuccess.ShouldBe(ExitAction.Shutdown);
        job.OnFailure.ShouldBe(ExitAction.Continue);
    }

    [Fact]
    public void RestartBackoff_FillsMissingFields_ResetAfterDefaultingToMax()
    {
        var backoff = Valid("{ jobs: [ { name: 'app', exec: 'app', restartBackoff: { max: '10s' } } ] }").Jobs[0].RestartBackoff!;

        backoff.Initial.ShouldBe(RestartBackoffConfig.DefaultInitial);
        backoff.Factor.ShouldBe(RestartBackoffConfig.DefaultFactor);
        backoff.Max.ShouldBe(TimeSpan.FromSeconds(10));
        backoff.Jitter.ShouldBe(0);
        backoff.ResetAfter.ShouldBe(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("SIGINT", SignalNames.SIGINT)]
    [InlineData("quit", SignalNames.SIGQUIT)]
    [InlineData("SIGUSR1", SignalNames.SIGUSR1)]
    [InlineData("28", 28)]
    [InlineData("1", SignalNames.SIGHUP)]
    public void StopSignal_AcceptsNamesAndNumbers(string written, int signal) =>
        Valid($"{{ jobs: [ {{ name: 'app', exec: 'app', stopSignal: '{written}' }} ] }}").Jobs[0].StopSignal.ShouldBe(signal);

    [Theory]
    [InlineData("stopSignal: 'SIGQIUT'", "jobs[0].stopSignal", "job[app].stopSignal: \"SIGQIUT\" is not a signal Pilot can send", "(did you mean \"SIGQUIT\"?)")]
    [InlineData("stopSignal: 99", "jobs[0].stopSignal", "\"99\" is not a signal Pilot can send", "or a number 1-64")]
    [InlineData("onSuccess: 'shutdwn'", "jobs[0].onSuccess", "job[app].onSuccess: \"shutdwn\" must be \"continue\" or \"shutdown\"", "(did you mean \"shutdown\"?)")]
    [InlineData("onFailure: 'stop'", "jobs[0].onFailure", "job[app].onFailure: \"stop\" must be \"continue\" or \"shutdown\"", "")]
    [InlineData("restartBackoff: { factor: 0.5 }", "jobs[0].restartBackoff.factor", "job[app].restartBackoff.factor must be a number ≥ 1, got 0.5", "")]
    [InlineData("restartBackoff: { factor: 'fast' }", "jobs[0].restartBackoff.factor", "must be a number ≥ 1, got a value that is not a number", "")]
    [InlineData("restartBackoff: { jitter: 1.5 }", "jobs[0].restartBackoff.jitter", "job[app].restartBackoff.jitter must be a fraction from 0 to 1, got 1.5", "")]
    [InlineData("restartBackoff: { initial: 'soon' }", "jobs[0].restartBackoff.initial", "could not parse job[app].restartBackoff.initial 'soon'", "")]
    [InlineData("restartBackoff: { initial: '-1s' }", "jobs[0].restartBackoff.initial", "job[app].restartBackoff.initial must be > 0, got '-1s'", "")]
    [InlineData("restartBackoff: { initial: '1m', max: '10s' }", "jobs[0].restartBackoff.max", "job[app].restartBackoff.max '10s' cannot be less than job[app].restartBackoff.initial '1m'", "")]
    [InlineData("restartBackoff: { resetAfter: '100d' }", "jobs[0].restartBackoff.resetAfter", "could not parse job[app].restartBackoff.resetAfter", "")]
    [InlineData("restartBackoff: { inital: '1s' }", "jobs[0].restartBackoff.inital", "'[0].restartBackoff' has invalid keys: inital", "(did you mean 'initial'?)")]
    public void LifecycleField_IsRejected_NamingThePathAndLine(string field, string path, string message, string hint)
    {
        var error = SingleError($"{{\n  jobs: [ {{\n    name: 'app', exec: 'app',\n    {field},\n  }} ],\n}}");

        error.Path.ShouldBe(path);
        error.Message.ShouldContain(message);
        error.Message.ShouldContain(hint);
        error.Line.ShouldBe(4);
    }

    [Fact]
    public void RestartBackoff_IsRejected_OnAPeriodicJob() =>
        SingleError("{ jobs: [ { name: 'app', exec: 'app', when: { interval: '5s' }, restartBackoff: {} } ] }").Message
            .ShouldBe("job[app].restartBackoff cannot be used with when.interval: a periodic job runs on its ticks, not on restarts");

    [Fact]
    public void RestartBackoff_IsRejected_OnACronJob() =>
        SingleError("{ jobs: [ { name: 'app', exec: 'app', when: { cron: '*/5 * * * *' }, restartBackoff: {} } ] }").Message
            .ShouldBe("job[app].restartBackoff cannot be used with when.cron: a periodic job runs on its ticks, not on restarts");

    [Fact]
    public void ShutdownOrder_IsRejected_WithASuggestion()
    {
        var error = SingleError("{\n  shutdownOrder: 'dependency',\n}");

        error.Path.ShouldBe("shutdownOrder");
        error.Message.ShouldBe("shutdownOrder: \"dependency\" must be \"together\" or \"dependencies\" (did you mean \"dependencies\"?)");
        error.Line.ShouldBe(2);
    }

    [Fact]
    public void MisspeltLifecycleKey_GetsASuggestion() =>
        SingleError("{ jobs: [ { name: 'app', exec: 'app', stopSignl: 'SIGINT' } ] }").Message
            .ShouldBe("'[0]' has invalid keys: stopSignl (did you mean 'stopSignal'?)");
}
