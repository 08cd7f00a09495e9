using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Events;

namespace Pilot.Supervisor.Jobs;

/// <summary>
/// <c>shutdownOrder: "dependencies"</c> as a pure function: a job stops only after the jobs that depend on it — whose
/// <c>when.source</c> is it or its health check — have stopped; chains follow from each job waiting for its own dependents.
/// </summary>
public static class ShutdownOrdering
{
    /// <summary>
    /// For each job name, the jobs it waits for on shutdown. Pre-stop and post-stop jobs (<c>once|each: stopping|stopped</c>)
    /// are left out: they run around their source's stop and have their own rule. A dependency that closes a cycle is
    /// dropped, so jobs that depend on each other stop together instead of waiting out their stop budgets.
    /// </summary>
    public static ImmutableDictionary<string, ImmutableHashSet<string>> WaitsFor(IEnumerable<JobConfig> jobs)
    {
        var list = jobs.ToList();
        var names = list.Select(j => j.Name).ToHashSet(StringComparer.Ordinal);
        var edges = names.ToDictionary(n => n, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var dependent in list)
        {
            var trigger = dependent.When.Trigger;
            if (trigger == default || trigger.Code is EventCode.Stopping or EventCode.Stopped || dependent.When.IsPeriodic)
            {
                continue;
            }
            var source = trigger.Source.StartsWith("check.", StringComparison.Ordinal) ? trigger.Source["check.".Length..] : trigger.Source;
            if (source != dependent.Name && names.Contains(source))
            {
                edges[source].Add(dependent.Name);
            }
        }
        return edges.ToImmutableDictionary(
            e => e.Key,
            e => e.Value.Where(dependent => !Reaches(edges, dependent, e.Key)).ToImmutableHashSet(StringComparer.Ordinal),
            StringComparer.Ordinal);
    }

    private static bool Reaches(Dictionary<string, HashSet<string>> edges, string from, string to)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([from]);
        while (stack.TryPop(out var name))
        {
            if (name == to)
            {
                return true;
            }
            if (seen.Add(name))
            {
                foreach (var next in edges[name])
                {
                    stack.Push(next);
                }
            }
        }
        return false;
    }
}
