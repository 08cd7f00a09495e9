using System.Text;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Health;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Processes;
using Shouldly;
using static Pilot.Supervisor.Tests.Jobs.JobMachineFixtures;

namespace Pilot.Supervisor.Tests.Jobs;

/// <summary>
/// Every state the machine can reach from a fresh job (of every kind), with every input: nothing throws, an
/// impossible input changes nothing, the invariants hold, and docs/job-states.md shows exactly the transitions found.
/// </summary>
public sealed class JobStateSpaceTests
{
    private static readonly StubRun Run = new(7);
    /// <summary>An exec check (its process group is terminated as a run's) and an HTTP/TCP one (cancelled).</summary>
    private static readonly StubProbe Probe = new(new StubRun(8));
    private static readonly StubProbe NetworkProbe = new();

    private static readonly JobDefinition[] Kinds =
        [Once, Restarting, Unlimited, Each, OnSighup, Late, Periodic, Cron, PreStop, Checked, Service, NoExec, ShutdownOnFailure, ShutdownOnSuccess, BackingOff, Depended,
         NotifiedService];

    /// <summary><c>health.notify</c> with a check, a Consul service, a watchdog and a backoff (issue 27).</summary>
    private static JobDefinition NotifiedService => Service with
    {
        Config = Service.Config with
        {
            Restarts = 2,
            Health = Service.Config.Health! with { Notify = true },
            RestartBackoff = BackingOff.Config.RestartBackoff,
        },
    };

    private static NotifyReceived Notified(string text, JobMemory memory) => new(
        Pilot.Supervisor.Notify.NotifyMessage.Parse(Encoding.UTF8.GetBytes(text)).Message!,
        new Pilot.Supervisor.Notify.NotifySender(memory.Run?.Pid ?? 7, 0, memory.Run?.Pid ?? 7, []));

    /// <summary>Each input under the name the diagram uses; null where it cannot be built from the memory.</summary>
    private static readonly (string Label, Func<JobDefinition, JobMemory, JobInput?> Make)[] Inputs =
    [
        ("begin", (_, _) => new Begin()),
        ("trigger", (job, _) => job.Config.When.Trigger == default ? null : Bus(job.Config.When.Trigger)),
        ("shutdown", (_, _) => Bus(Shutdown)),
        ("maintenance", (_, _) => Bus(EventCode.EnterMaintenance, Event.GlobalSource)),
        ("maintenance", (_, _) => Bus(EventCode.ExitMaintenance, Event.GlobalSource)),
        ("dependents stopped", (job, _) => job.StopDependents.IsEmpty ? null : Bus(EventCode.Stopped, job.StopDependents.First())),
        ("dependents stopped", (job, _) => job.ShutdownDependents.IsEmpty ? null : Bus(EventCode.Stopped, job.ShutdownDependents.First())),
        ("launched", (_, _) => new RunStarted(Run)),
        ("launch failed", (_, _) => new RunStartFailed("no such file")),
        ("run exits", (_, memory) => memory.Run is { } run ? Exit(run, 0) : Exit(Run, 0)),
        ("run exits", (_, memory) => memory.Run is { } run ? Exit(run, 1) : null),
        ("restart due", (_, _) => new RestartDue()),
        ("heartbeat", (_, _) => new TimerFired(JobTimer.Heartbeat)),
        ("interval", (_, _) => new TimerFired(JobTimer.Interval)),
        ("when.timeout", (_, _) => new TimerFired(JobTimer.WhenTimeout)),
        ("run timeout", (_, _) => new TimerFired(JobTimer.RunTimeout)),
        ("stop deadline", (_, _) => new TimerFired(JobTimer.StopDeadline)),
        ("backoff ends", (_, _) => new TimerFired(JobTimer.RestartBackoff)),
        ("check started", (_, _) => new CheckStarted(Probe)),
        ("check started", (_, _) => new CheckStarted(NetworkProbe)),
        ("check result", (_, memory) => new CheckFinished(memory.Probe ?? Probe, new HealthCheckResult(HealthCheckOutcome.Passed, "exit status 0"))),
        ("group gone", (_, memory) => new GroupGone(memory.Terminations.FirstOrDefault()?.Group ?? Run)),
        ("group gone", (_, memory) => memory.Terminations.Count > 1 ? new GroupGone(memory.Terminations[^1].Group) : null),
        ("kill time elapsed", (_, _) => new TimerFired(JobTimer.Kill)),
        ("deregistered", (_, _) => new Deregistered()),
        ("stop", (_, _) => new Command(JobCommand.Stop)),
        ("start", (_, _) => new Command(JobCommand.Start)),
        ("restart", (_, _) => new Command(JobCommand.Restart)),
        ("retire", (_, _) => new Command(JobCommand.Retire)),
        ("kill", (_, _) => new Command(JobCommand.Kill)),
        ("signal", (_, _) => new ForwardSignal(SignalNames.SIGUSR1)),
        ("source halted", (job, _) => job.Config.When.Trigger.Code is EventCode.Stopping or EventCode.Stopped ? new SourceHalted() : null),
        ("dependents stopped", (job, memory) => job.StopDependents.IsEmpty ? null : Bus(EventCode.ExitSuccess, job.StopDependents.First())),
        ("notify", (job, memory) => job.HasNotify ? Notified("READY=1\nSTATUS=up", memory) : null),
        ("notify", (job, memory) => job.HasNotify ? Notified("WATCHDOG=1", memory) : null),
        ("notify", (job, memory) => job.HasNotify ? Notified("STOPPING=1", memory) : null),
        ("notify", (job, _) => job.HasNotify ? new NotifyIgnored(NotifyIgnoredReason.Malformed, "test") : null),
        ("watchdog", (job, _) => job.HasNotify ? new TimerFired(JobTimer.Watchdog) : null),
    ];

    private sealed record Explored(HashSet<JobState> Reached, SortedDictionary<(JobState From, JobState To), SortedSet<string>> Edges, int Steps);

    /// <summary>Breadth-first from each kind's first memory; memories that differ only in times and counts of the past count once.</summary>
    private static Explored Explore(Action<JobDefinition, JobMemory, JobInput, JobStep>? check = null)
    {
        var reached = new HashSet<JobState>();
        var edges = new SortedDictionary<(JobState, JobState), SortedSet<string>>();
        var steps = 0;
        foreach (var job in Kinds)
        {
            var seen = new HashSet<object>();
            var queue = new Queue<JobMemory>([JobMemory.Initial(job)]);
            while (queue.TryDequeue(out var memory))
            {
                if (!seen.Add(Signature(job, memory)))
                {
                    continue;
                }
                if (seen.Count > 50_000)
                {
                    throw new InvalidOperationException($"the state space of {job.Name} does not close: some memory keeps changing");
                }
                reached.Add(memory.State);
                foreach (var (label, make) in Inputs)
                {
                    if (make(job, memory) is not { } input)
                    {
                        continue;
                    }
                    var step = JobMachine.Handle(job, memory, input, At(TimeSpan.FromSeconds(1)));
                    steps++;
                    check?.Invoke(job, memory, input, step);
                    if (step.Effects.OfType<ReportInternalError>().Any())
                    {
                        continue;
                    }
                    if (step.Memory.State != memory.State)
                    {
                        var key = (memory.State, step.Memory.State);
                        if (!edges.TryGetValue(key, out var labels))
                        {
                            edges[key] = labels = new SortedSet<string>(StringComparer.Ordinal);
                        }
                        labels.Add(label);
                    }
                    queue.Enqueue(step.Memory);
                }
            }
        }
        return new Explored(reached, edges, steps);
    }

    /// <summary>What decides the machine's future (an unlimited job's restart count keeps going down, as v3's, and decides nothing).</summary>
    private static object Signature(JobDefinition job, JobMemory m) => (m.State, m.Run is null, m.Probe is null, m.StartsRemain,
        job.Config.Restarts == JobConfig.UnlimitedRestarts ? 0 : m.RestartsRemain, m.Trigger == default, m.WhenTimeoutArmed, m.Health,
        m.AwaitedDependents.Count, m.StartAfterStop, m.StopDeregistering, m.NextRestart is null,
        m.ShutdownSeen, m.StoppedDependents.Count, m.InMaintenance,
        string.Join(",", m.Terminations.Select(t => $"{t.Group.Pid}{(t.Killed ? "k" : "")}{(t.ForHalt ? "h" : "")}")),
        ReferenceEquals(m.Probe, NetworkProbe));

    [Fact]
    public void JobMachine_HandlesEveryInputInEveryReachableState_AndKeepsItsInvariants()
    {
        var explored = Explore((job, before, input, step) =>
        {
            if (step.Effects.OfType<ReportInternalError>().Any())
            {
                step.Memory.State.ShouldBe(before.State, $"{input} was reported impossible in {before.State} but moved the job");
            }
            var after = step.Memory;
            if (after.State is JobState.Idle or JobState.Waiting or JobState.Exited or JobState.Stopped or JobState.Deregistering or JobState.Completed)
            {
                after.Run.ShouldBeNull($"{job.Name} in {after.State} after {input} still holds a run");
            }
            if (after.State is JobState.Running or JobState.RestartQueued or JobState.Holding && job.Config.Exec is not null)
            {
                after.Run.ShouldNotBeNull($"{job.Name} in {after.State} after {input} has no run");
            }
            if (after.State is JobState.Deregistering or JobState.Completed)
            {
                after.Probe.ShouldBeNull($"{job.Name} in {after.State} after {input} still holds a probe");
            }
            step.Effects.OfType<LaunchRun>().Count().ShouldBeLessThanOrEqualTo(1);
            // SIGKILL is a step of the machine, logged once per step, and only with a SIGKILL it decides.
            var killLines = step.Effects.OfType<WriteLog>().Count(log => log.Text.StartsWith("killing processes for job", StringComparison.Ordinal));
            killLines.ShouldBeLessThanOrEqualTo(1, $"{input} in {before.State} logged the kill line twice");
            var sigkills = step.Effects.OfType<KillGroup>().Count()
                + step.Effects.Count(e => e is SignalRun { Signal: SignalNames.SIGKILL } or SignalCheck { Signal: SignalNames.SIGKILL });
            if (input is not TimerFired { Timer: JobTimer.RunTimeout })
            {
                killLines.ShouldBe(sigkills > 0 ? 1 : 0, $"{input} in {before.State}: SIGKILL and its log line go together");
            }
            step.Effects.OfType<KillGroup>().Select(k => k.Group).ShouldBeUnique();
            // The kill timer is armed for the earliest kill time of a group not yet killed, and only then.
            var unkilled = after.Terminations.Where(t => !t.Killed).Select(t => (DateTimeOffset?)t.KillAt).Min();
            after.KillDue.ShouldBe(unkilled, $"{job.Name} in {after.State} after {input}: kill timer armed for {after.KillDue}, kill due {unkilled}");
            after.Terminations.Select(t => t.Group).ShouldBeUnique();
            if (after.State is JobState.Deregistering or JobState.Completed)
            {
                after.Terminations.ShouldNotContain(t => t.ForHalt, $"{job.Name} in {after.State} after {input} went on before its groups were gone");
            }
            if (step.Effects.OfType<LaunchRun>().Any())
            {
                after.State.ShouldBe(JobState.Starting);
            }
        });

        explored.Reached.ShouldBe(Enum.GetValues<JobState>(), ignoreOrder: true);
        explored.Steps.ShouldBeGreaterThan(1000);
    }

    [Fact]
    public void JobStatesDoc_ShowsExactlyTheTransitionsOfTheMachine()
    {
        var expected = Explore().Edges.Select(e => $"{e.Key.From} --> {e.Key.To}: {string.Join(", ", e.Value)}").ToList();
        var doc = File.ReadAllText(Path.Combine(Checkout.Root, "docs/job-states.md"));
        var start = doc.IndexOf("```mermaid", StringComparison.Ordinal);
        start.ShouldBeGreaterThanOrEqualTo(0, "docs/job-states.md has no mermaid diagram");
        var end = doc.IndexOf("```", start + 3, StringComparison.Ordinal);
        var documented = doc[start..end].Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Contains("-->", StringComparison.Ordinal) && !line.Contains("[*]", StringComparison.Ordinal))
            .ToList();

        var diagram = new StringBuilder();
        foreach (var line in expected)
        {
            diagram.Append("    ").AppendLine(line);
        }
        documented.ShouldBe(expected, $"docs/job-states.md is out of date; its transitions are:\n{diagram}");
    }
}
