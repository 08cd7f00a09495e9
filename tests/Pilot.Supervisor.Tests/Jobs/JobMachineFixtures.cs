using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Health;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Tests.Jobs;

/// <summary>Jobs, moments and stand-ins for the state machine tests: no process, no clock, no bus.</summary>
internal static class JobMachineFixtures
{
    public static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
    public static readonly TimeSpan GlobalStop = TimeSpan.FromSeconds(5);
    public static readonly Event Startup = Event.GlobalStartup;
    public static readonly Event Shutdown = Event.GlobalShutdown;
    public static readonly Event DbHealthy = new(EventCode.StatusHealthy, "db");
    public const string PidVariable = "CONTAINERPILOT_APP_PID";

    private static JobConfig App => new() { Name = "app", Exec = new CommandSpec("app", []) };

    /// <summary>Default <c>when</c> (once at startup), restarts never.</summary>
    public static JobDefinition Once => JobDefinition.Of(App);

    public static JobDefinition Restarting => JobDefinition.Of(App with { Restarts = 2 });

    public static JobDefinition Unlimited => JobDefinition.Of(App with { Restarts = JobConfig.UnlimitedRestarts });

    public static JobDefinition Each => JobDefinition.Of(App with { When = new WhenConfig { Trigger = DbHealthy, StartsLimit = -1, IsEach = true } });

    public static JobDefinition AfterSetup => JobDefinition.Of(App with { When = new WhenConfig { Trigger = new Event(EventCode.ExitSuccess, "setup"), StartsLimit = 1 } });

    public static JobDefinition OnSighup => JobDefinition.Of(App with { When = new WhenConfig { Trigger = new Event(EventCode.Signal, "SIGHUP"), StartsLimit = -1 } });

    public static JobDefinition Late => JobDefinition.Of(App with { When = new WhenConfig { Trigger = DbHealthy, StartsLimit = 1, Timeout = TimeSpan.FromSeconds(10) } });

    public static JobDefinition Periodic => JobDefinition.Of(App with
    {
        When = new WhenConfig { Interval = TimeSpan.FromSeconds(5) },
        Restarts = 1,
        Timeout = TimeSpan.FromSeconds(5),
    });

    /// <summary><c>when.cron</c> every 10 s (Pilot extension): periodic like an interval job, its timer armed once per run.</summary>
    public static JobDefinition Cron => JobDefinition.Of(App with
    {
        When = new WhenConfig { Cron = CronSchedule.Parse("*/10 * * * * *").Schedule },
        Restarts = 1,
    });

    public static JobDefinition PreStop => JobDefinition.Of(App with
    {
        Name = "pre-stop",
        Exec = new CommandSpec("pre-stop", []),
        When = new WhenConfig { Trigger = new Event(EventCode.Stopping, "main"), StartsLimit = 1 },
    });

    public static JobDefinition Checked => JobDefinition.Of(App with
    {
        Health = new HealthConfig { Exec = new CommandSpec("check", []), Interval = TimeSpan.FromSeconds(1), TtlSeconds = 5 },
    });

    /// <summary>A Consul service with a health check, a stopping-dependent and its own stopTimeout.</summary>
    public static JobDefinition Service => new(
        App with
        {
            Port = 80,
            StopTimeout = TimeSpan.FromSeconds(3),
            Health = new HealthConfig { Exec = new CommandSpec("check", []), Interval = TimeSpan.FromSeconds(1), TtlSeconds = 5 },
        },
        ["pre-stop"], HasService: true, HasCheck: true);

    /// <summary>Restarts unlimited, but a failure shuts Pilot down (<c>onFailure: shutdown</c>).</summary>
    public static JobDefinition ShutdownOnFailure => JobDefinition.Of(App with { Restarts = JobConfig.UnlimitedRestarts, OnFailure = ExitAction.Shutdown });

    /// <summary>A success shuts Pilot down (<c>onSuccess: shutdown</c>).</summary>
    public static JobDefinition ShutdownOnSuccess => JobDefinition.Of(App with { OnSuccess = ExitAction.Shutdown });

    /// <summary>Restarts unlimited, each after a backoff: 1 s, doubling up to 8 s, reset by a run of 10 s.</summary>
    public static JobDefinition BackingOff => JobDefinition.Of(App with
    {
        Restarts = JobConfig.UnlimitedRestarts,
        RestartBackoff = new RestartBackoffConfig { Initial = TimeSpan.FromSeconds(1), Factor = 2, Max = TimeSpan.FromSeconds(8), ResetAfter = TimeSpan.FromSeconds(10) },
    });

    /// <summary><c>shutdownOrder: "dependencies"</c>: the job "web" depends on this one.</summary>
    public static JobDefinition Depended => JobDefinition.Of(App) with { ShutdownDependents = ["web"] };

    public static JobDefinition NoExec => new(new JobConfig { Name = "app" }, [], HasService: false, HasCheck: false);

    /// <summary>The telemetry service job Pilot adds (no exec, always healthy), registered in Consul or not.</summary>
    public static JobDefinition TelemetryJob(bool consul) => new(
        new JobConfig { Name = JobConfig.TelemetryJobName, Port = 9090, Health = new HealthConfig { Interval = TimeSpan.FromSeconds(5), TtlSeconds = 15 } },
        [], HasService: consul, HasCheck: false);

    public static JobMoment At(TimeSpan elapsed = default) => new(T0 + elapsed, GlobalStop);

    /// <summary>Runs inputs from the initial memory, as the loop would (no effect carried out).</summary>
    public static JobMemory Drive(JobDefinition job, params JobInput[] inputs) =>
        inputs.Aggregate(JobMemory.Initial(job), (memory, input) => JobMachine.Handle(job, memory, input, At()).Memory);

    public static BusEvent Bus(Event e) => new(e);

    public static BusEvent Bus(EventCode code, string source) => new(new Event(code, source));

    public static RunExited Exit(IRunningProcess run, int code) => new(run, new ProcessExit(code, null));

    public static ImmutableArray<JobState> AllStates => [.. Enum.GetValues<JobState>()];
}

/// <summary>A run that is only an identity for the machine.</summary>
internal sealed class StubRun(int pid) : IRunningProcess
{
    public int Pid { get; } = pid;

    public Task<ProcessExit> Exited { get; } = new TaskCompletionSource<ProcessExit>().Task;

    public void SignalGroup(int signal) => throw new InvalidOperationException("the state machine never signals by itself");

    public override string ToString() => $"run {Pid}";
}

/// <summary>A health probe that is only an identity for the machine; <paramref name="group"/>: an exec check's process group (null: HTTP or TCP).</summary>
internal sealed class StubProbe(IRunningProcess? group = null) : IHealthProbe
{
    public Task<HealthCheckResult> Completion { get; } = new TaskCompletionSource<HealthCheckResult>().Task;

    public IRunningProcess? Group { get; } = group;

    public void Signal(int signal) => throw new InvalidOperationException("the state machine never signals by itself");

    public void Cancel() => throw new InvalidOperationException("the state machine never cancels by itself");

    public override string ToString() => Group is null ? "probe" : $"probe {Group.Pid}";
}
