using System.Globalization;
using System.Text.RegularExpressions;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Logging;
using Pilot.Supervisor.Processes;
using Shouldly;
using Xunit;
using static Pilot.Supervisor.Tests.Processes.ProcessTestSupport;

namespace Pilot.Supervisor.Tests.Jobs;

/// <summary>
/// A job stopping real process groups: the stop signal, then SIGKILL from the job machine's kill timer once the
/// job's <c>stopTimeout</c> is over — whether or not the leader is alive — logged once.
/// </summary>
public sealed class JobTerminationTests : IDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromMilliseconds(300);
    private readonly string _dir = Directory.CreateTempSubdirectory("pilot-termination-").FullName;
    private readonly EventBus _bus = new();
    private readonly StringWriter _log = new();
    private readonly JobRuntime _runtime;

    public JobTerminationTests() =>
        _runtime = new JobRuntime(_bus, Launcher(), TimeProvider.System,
            new LogWriter(new LoggingConfig { Level = Supervisor.Config.LogLevel.Debug }, TimeProvider.System, _log));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Read once the job is done with its processes (its loop has written every line about them).</summary>
    private int KillLines(string job) => Regex.Count(_log.ToString(), $"killing processes for job \"{job}\"");

    /// <summary>Starts the job and returns the pid its script writes once it is set up.</summary>
    private async Task<(Job Job, int Pid)> StartAsync(string name, string script, TimeSpan? stopTimeout = null)
    {
        var pidFile = Path.Combine(_dir, name + ".pid");
        var job = new Job(new JobConfig
        {
            Name = name,
            Exec = Sh(script.Replace("PIDFILE", pidFile, StringComparison.Ordinal)),
            StopTimeout = stopTimeout ?? StopTimeout,
        }, _runtime);
        job.Start();
        _bus.Publish(Event.GlobalStartup);
        (await EventuallyAsync(() => File.Exists(pidFile) && File.ReadAllText(pidFile).EndsWith('\n'), TimeSpan.FromSeconds(60))).ShouldBeTrue("the job did not start");
        return (job, int.Parse(File.ReadAllText(pidFile), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Shutdown_SigkillsATermIgnoringGrandchild_AfterTheStopTimeout_AndLogsTheKillLineOnce()
    {
        // The leader dies on SIGTERM; the grandchild ignores it and keeps the group.
        var (job, grandchild) = await StartAsync("stubborn", "(trap '' TERM; exec sleep 300 >/dev/null 2>&1) & echo $! > PIDFILE; wait");
        try
        {
            var started = TimeProvider.System.GetTimestamp();
            _bus.Publish(Event.GlobalShutdown);
            await job.Completion.Bounded();

            TimeProvider.System.GetElapsedTime(started).ShouldBeGreaterThanOrEqualTo(StopTimeout, "SIGKILL before the stopTimeout");
            IsDead(grandchild).ShouldBeTrue();
            job.Snapshot.State.ShouldBe(JobState.Completed);
            job.Snapshot.LastExitCode.ShouldBe(128 + SignalNames.SIGTERM, "the leader died on SIGTERM");
            KillLines("stubborn").ShouldBe(1);
        }
        finally
        {
            await job.KillProcessesAsync();
        }
    }

    [Fact]
    public async Task StopCommand_SigkillsATermIgnoringRun_AfterTheStopTimeout_AndLogsTheKillLineOnce()
    {
        var (job, _) = await StartAsync("stubborn", "trap '' TERM; echo $$ > PIDFILE; while :; do sleep 0.05; done");
        try
        {
            var started = TimeProvider.System.GetTimestamp();
            var stop = await job.SendAsync(JobCommand.Stop).Bounded();

            TimeProvider.System.GetElapsedTime(started).ShouldBeGreaterThanOrEqualTo(StopTimeout, "SIGKILL before the stopTimeout");
            (stop.Job.State, stop.Changed).ShouldBe((JobState.Stopped, true));
            stop.Job.LastExitCode.ShouldBe(128 + SignalNames.SIGKILL);
            KillLines("stubborn").ShouldBe(1);
        }
        finally
        {
            _bus.Publish(Event.GlobalShutdown);
            await job.Completion.Bounded();
            await job.KillProcessesAsync();
        }
    }

    [Fact]
    public async Task Shutdown_SendsNoSigkill_WhenTheGroupEndsOnSigterm()
    {
        // A grace no orderly end comes near: the group is gone long before it, so the kill timer never fires.
        var (job, child) = await StartAsync("polite", "sleep 300 >/dev/null 2>&1 & echo $! > PIDFILE; wait", stopTimeout: TimeSpan.FromSeconds(30));
        try
        {
            _bus.Publish(Event.GlobalShutdown);
            await job.Completion.Bounded();

            IsDead(child).ShouldBeTrue();
            job.Snapshot.LastExitCode.ShouldBe(128 + SignalNames.SIGTERM);
            KillLines("polite").ShouldBe(0);
        }
        finally
        {
            await job.KillProcessesAsync();
        }
    }
}
