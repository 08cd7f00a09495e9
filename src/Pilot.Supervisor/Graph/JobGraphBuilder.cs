using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Config.Decoding;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Jobs;

namespace Pilot.Supervisor.Graph;

/// <summary>
/// Builds the <see cref="JobGraph"/> of a config: a node per job, watch, signal and <c>global</c> (only those used), an
/// edge per <c>when</c> (the implicit start at <c>startup</c> and periodic ticks included), per pre-/post-stop job and,
/// with <c>shutdownOrder: "dependencies"</c>, per shutdown dependency; and every trap, a <c>when</c> that never fires
/// (see <see cref="GraphTrapKind"/>). Starting a job by hand (<c>pilot start</c>) is not counted as a way to start it.
/// </summary>
public static class JobGraphBuilder
{
    public static JobGraph Build(PilotConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var jobs = JobsOf(config);
        // Names may repeat (v3 does not check them): the first job of a name speaks for it.
        var byName = new Dictionary<string, JobConfig>(StringComparer.Ordinal);
        foreach (var job in jobs)
        {
            byName.TryAdd(job.Name, job);
        }
        var watches = config.Watches.Select(w => w.Source).ToHashSet(StringComparer.Ordinal);
        var traps = new List<GraphTrap>();
        var edges = new List<GraphEdge>();
        var sources = new List<GraphNode>();
        var usedSources = new HashSet<string>(StringComparer.Ordinal);

        void UseSource(string id, GraphNodeKind kind, string label)
        {
            if (usedSources.Add(id))
            {
                sources.Add(new GraphNode(id, kind, label) { IsTrap = kind == GraphNodeKind.Missing });
            }
        }

        foreach (var job in byName.Values)
        {
            var when = job.When;
            if (when.IsPeriodic)
            {
                UseSource(Event.GlobalSource, GraphNodeKind.Global, Event.GlobalSource);
                edges.Add(new GraphEdge(Event.GlobalSource, job.Name, GraphEdgeKind.Trigger)
                {
                    Event = when.Cron is null ? "interval" : "cron",
                    Each = true,
                    Schedule = when.Cron is { } cron ? "cron " + cron.Text : "every " + GoDuration.Format(when.Interval!.Value),
                });
                continue;
            }
            if (when.StartsLimit == 0 || when.Trigger == default)
            {
                traps.Add(new GraphTrap(GraphTrapKind.NoEvent, job.Name,
                    $"job {job.Name}: its when has no 'once' or 'each', so it never starts"));
                continue;
            }
            var trigger = when.Trigger;
            var (from, kind, fromCheck) = Resolve(trigger.Source, byName, watches);
            UseSource(from, kind, kind == GraphNodeKind.Watch ? "watch " + from["watch.".Length..] : from);
            var eventName = trigger.Code == EventCode.Signal ? trigger.Source : trigger.Code.ToConfigName();
            var edgeKind = trigger.Code switch
            {
                EventCode.Stopping when kind == GraphNodeKind.Job && !fromCheck => GraphEdgeKind.PreStop,
                EventCode.Stopped when kind == GraphNodeKind.Job && !fromCheck => GraphEdgeKind.PostStop,
                _ => GraphEdgeKind.Trigger,
            };
            var trap = kind == GraphNodeKind.Missing
                ? new GraphTrap(GraphTrapKind.UnknownSource, job.Name, trigger.Source.Length == 0
                    ? $"job {job.Name}: its when has no 'source', so it waits for an event that never comes"
                    : $"job {job.Name}: when.source \"{trigger.Source}\" is not a job, a health check, a watch or a known event source, so it never starts")
                : NeverEmitted(job, trigger, kind, fromCheck, byName);
            if (trap is not null)
            {
                traps.Add(trap);
            }
            edges.Add(new GraphEdge(from, job.Name, edgeKind)
            {
                Event = eventName,
                Each = when.StartsLimit < 0,
                FromCheck = fromCheck,
                Timeout = when.Timeout is { } timeout && timeout > TimeSpan.Zero ? GoDuration.Format(timeout) : null,
                IsTrap = trap is not null,
            });
        }

        traps.AddRange(Unreachable(byName, traps));
        if (config.ShutdownOrder == ShutdownOrder.Dependencies)
        {
            var order = byName.Keys.Select((name, index) => (name, index)).ToDictionary(p => p.name, p => p.index, StringComparer.Ordinal);
            var waitsFor = ShutdownOrdering.WaitsFor(byName.Values);
            foreach (var name in byName.Keys)
            {
                foreach (var dependent in waitsFor[name].OrderBy(d => order[d]))
                {
                    edges.Add(new GraphEdge(name, dependent, GraphEdgeKind.StopsAfter));
                }
            }
        }

        var trapped = traps.Select(t => t.Job).ToHashSet(StringComparer.Ordinal);
        var nodes = sources.Where(s => s.Kind is GraphNodeKind.Global or GraphNodeKind.Signal)
            .Concat(byName.Values.Select(job => new GraphNode(job.Name, GraphNodeKind.Job, job.Name)
            {
                Details = Details(job),
                IsTrap = trapped.Contains(job.Name),
            }))
            .Concat(config.Watches.Select(w => w.Source).Distinct(StringComparer.Ordinal)
                .Select(id => new GraphNode(id, GraphNodeKind.Watch, "watch " + id["watch.".Length..])))
            .Concat(sources.Where(s => s.Kind == GraphNodeKind.Missing));
        return new JobGraph([.. nodes], [.. edges], [.. traps]);
    }

    /// <summary>The jobs Pilot runs for the config: its own, and the telemetry service job when <c>telemetry</c> is on.</summary>
    public static ImmutableArray<JobConfig> JobsOf(PilotConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Telemetry is not { } telemetry || config.Jobs.Any(j => j.Name == JobConfig.TelemetryJobName))
        {
            return config.Jobs;
        }
        return config.Jobs.Add(new JobConfig { Name = JobConfig.TelemetryJobName, Port = telemetry.Port });
    }

    /// <summary>The node a <c>when.source</c> points at: a job (or its check), a watch, a signal, <c>global</c>, or a missing one.</summary>
    private static (string Id, GraphNodeKind Kind, bool FromCheck) Resolve(string source, Dictionary<string, JobConfig> jobs, HashSet<string> watches)
    {
        if (jobs.ContainsKey(source))
        {
            return (source, GraphNodeKind.Job, false);
        }
        if (source.StartsWith("check.", StringComparison.Ordinal) && jobs.ContainsKey(source["check.".Length..]))
        {
            return (source["check.".Length..], GraphNodeKind.Job, true);
        }
        if (watches.Contains(source))
        {
            return (source, GraphNodeKind.Watch, false);
        }
        return source switch
        {
            Event.GlobalSource => (source, GraphNodeKind.Global, false),
            "SIGHUP" or "SIGUSR2" => (source, GraphNodeKind.Signal, false),
            _ => (source.Length == 0 ? "(no source)" : source, GraphNodeKind.Missing, false),
        };
    }

    /// <summary>A trap when the source exists but never publishes the event (what each source publishes: docs/configuration.md).</summary>
    private static GraphTrap? NeverEmitted(JobConfig job, Event trigger, GraphNodeKind kind, bool fromCheck, Dictionary<string, JobConfig> jobs)
    {
        var code = trigger.Code;
        string? reason = kind switch
        {
            GraphNodeKind.Job when fromCheck => CheckReason(jobs[trigger.Source["check.".Length..]], code),
            GraphNodeKind.Job => JobReason(jobs[trigger.Source], code),
            GraphNodeKind.Watch => code is EventCode.StatusChanged or EventCode.StatusHealthy or EventCode.StatusUnhealthy
                ? null : "a watch publishes only changed, healthy and unhealthy",
            GraphNodeKind.Global => code is EventCode.Startup or EventCode.Shutdown or EventCode.EnterMaintenance or EventCode.ExitMaintenance
                ? null : "global publishes only startup, shutdown, enterMaintenance and exitMaintenance",
            _ => null,
        };
        return reason is null ? null : new GraphTrap(GraphTrapKind.NeverEmitted, job.Name,
            $"job {job.Name}: waits for \"{code.ToConfigName()}\" from \"{trigger.Source}\", which never comes: {reason}");
    }

    private static string? CheckReason(JobConfig owner, EventCode code) =>
        owner.Health?.Kind is null ? $"{owner.Name} has no health check (health.exec, http or tcp)"
        : code is EventCode.ExitSuccess or EventCode.ExitFailed ? null
        : "a health check publishes only exitSuccess and exitFailed";

    private static string? JobReason(JobConfig source, EventCode code) => code switch
    {
        EventCode.ExitSuccess or EventCode.ExitFailed or EventCode.Stopping or EventCode.Stopped or EventCode.Startup => null,
        EventCode.StatusHealthy or EventCode.StatusUnhealthy when source.Health?.Kind is not null => null,
        EventCode.StatusHealthy or EventCode.StatusUnhealthy => $"{source.Name} has no health check (health.exec, http or tcp)",
        EventCode.TimerExpired when source.When.Timeout is { } t && t > TimeSpan.Zero && !source.When.IsPeriodic => null,
        EventCode.TimerExpired => $"{source.Name} has no when.timeout",
        EventCode.Error => "an error event's source is the error's text, never a job's name",
        _ => "a job publishes only exitSuccess, exitFailed, stopping, stopped, startup, healthy and unhealthy (with a health check) and timerExpired (with when.timeout)",
    };

    /// <summary>
    /// Jobs that never start because what starts them never starts: a cycle (each started only by another of it) or a
    /// job whose source job never starts. Found as the complement of the jobs reachable from startup, ticks, signals
    /// and watches. A pre-/post-stop job counts as startable when its source exists (a job stops at shutdown).
    /// </summary>
    private static IEnumerable<GraphTrap> Unreachable(Dictionary<string, JobConfig> jobs, List<GraphTrap> known)
    {
        var dead = known.Select(t => t.Job).ToHashSet(StringComparer.Ordinal);
        var startable = new HashSet<string>(StringComparer.Ordinal);
        bool changed;
        do
        {
            changed = false;
            foreach (var job in jobs.Values)
            {
                if (startable.Contains(job.Name) || dead.Contains(job.Name))
                {
                    continue;
                }
                var trigger = job.When.Trigger;
                var source = SourceJob(trigger.Source, jobs);
                var starts = job.When.IsPeriodic || source is null
                    || trigger.Code is EventCode.Stopping or EventCode.Stopped
                    || startable.Contains(source);
                if (starts && startable.Add(job.Name))
                {
                    changed = true;
                }
            }
        }
        while (changed);

        var waiting = jobs.Values.Where(j => !startable.Contains(j.Name) && !dead.Contains(j.Name)).ToList();
        var inCycle = new HashSet<string>(StringComparer.Ordinal);
        foreach (var job in waiting)
        {
            // Follow the sources; a walk that comes back to where it started is a cycle, reported once.
            var path = new List<string>();
            var current = job.Name;
            while (!path.Contains(current) && SourceJob(jobs[current].When.Trigger.Source, jobs) is { } next && !startable.Contains(next) && !dead.Contains(next))
            {
                path.Add(current);
                current = next;
            }
            if (current == job.Name && path.Count > 0 && !path.Any(inCycle.Contains))
            {
                inCycle.UnionWith(path);
                var loop = string.Join(" → ", path.Append(job.Name));
                foreach (var member in path)
                {
                    yield return new GraphTrap(GraphTrapKind.Cycle, member,
                        $"job {member}: in the cycle {loop}, whose jobs are started only by each other, so none of them starts");
                }
            }
        }
        foreach (var job in waiting.Where(j => !inCycle.Contains(j.Name)))
        {
            var trigger = job.When.Trigger;
            yield return new GraphTrap(GraphTrapKind.Starved, job.Name,
                $"job {job.Name}: waits for \"{trigger.Code.ToConfigName()}\" from \"{trigger.Source}\", which never starts, so neither does {job.Name}");
        }
    }

    /// <summary>The job a source belongs to (<c>NAME</c> or <c>check.NAME</c>); null for other sources.</summary>
    private static string? SourceJob(string source, Dictionary<string, JobConfig> jobs) =>
        jobs.ContainsKey(source) ? source
        : source.StartsWith("check.", StringComparison.Ordinal) && jobs.ContainsKey(source["check.".Length..]) ? source["check.".Length..]
        : null;

    private static ImmutableArray<string> Details(JobConfig job)
    {
        var details = ImmutableArray.CreateBuilder<string>();
        if (job.Name == JobConfig.TelemetryJobName && job.Exec is null)
        {
            details.Add("telemetry");
        }
        if (job.Health is { Kind: { } check } health)
        {
            details.Add($"health: {check} every {GoDuration.Format(health.Interval)}");
        }
        if (job.IsService)
        {
            details.Add($"port {job.Port}");
        }
        if (job.Restarts != 0 && !job.When.IsPeriodic)
        {
            details.Add(job.Restarts < 0 ? "restarts: unlimited" : $"restarts: {job.Restarts}");
        }
        return details.ToImmutable();
    }
}
