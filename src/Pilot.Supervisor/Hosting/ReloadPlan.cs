using System.Collections.Immutable;
using Pilot.Supervisor.Config;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// What a reload does, computed once from the jobs Pilot has and the new config's jobs (it only computes, as Pebble's
/// <c>Replan</c>): the jobs to stop, the jobs kept as they are, and the configs to start.
/// </summary>
/// <remarks>
/// Jobs are matched by whole config, not by name: v3 does not require names to be unique. A job whose config is
/// unchanged is kept in whatever state it is in — running, waiting for its trigger, between periodic runs, or completed
/// (a one-shot job that ran is not run again) — even when its trigger's source changed. Live jobs are matched first;
/// a job a reload already stopped is never matched again.
/// </remarks>
public sealed record ReloadPlan<TJob>(ImmutableArray<TJob> Retire, ImmutableArray<TJob> Keep, ImmutableArray<JobConfig> Start)
    where TJob : class
{
    /// <summary>
    /// The jobs Pilot has once the retired ones have stopped, before the new ones start: the kept ones (also one that
    /// completed meanwhile: it is not started again), and any still alive (a job that outlived its stop stays listed).
    /// </summary>
    public IEnumerable<TJob> Remaining(IEnumerable<TJob> current, Func<TJob, bool> isCompleted) =>
        current.Where(job => Keep.Contains(job) || !isCompleted(job));
}

public static class ReloadPlan
{
    /// <param name="current">The jobs Pilot has, in order.</param>
    /// <param name="configOf">A job's config.</param>
    /// <param name="isCompleted">True for a job that has halted for good.</param>
    /// <param name="isRetired">True for a job an earlier reload stopped (still listed while it stops).</param>
    /// <param name="next">The new config's jobs (<see cref="ConfiguredJobs.JobsOf"/>).</param>
    public static ReloadPlan<TJob> Compute<TJob>(IReadOnlyList<TJob> current, Func<TJob, JobConfig> configOf, Func<TJob, bool> isCompleted,
        Func<TJob, bool> isRetired, ImmutableArray<JobConfig> next)
        where TJob : class
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(configOf);
        ArgumentNullException.ThrowIfNull(isCompleted);
        ArgumentNullException.ThrowIfNull(isRetired);
        var unmatched = next.ToList();
        var retire = ImmutableArray.CreateBuilder<TJob>();
        var keep = ImmutableArray.CreateBuilder<TJob>();
        foreach (var job in current.Where(j => !isCompleted(j) && !isRetired(j)))
        {
            (unmatched.Remove(configOf(job)) ? keep : retire).Add(job);
        }
        foreach (var job in current.Where(j => isCompleted(j) && !isRetired(j)))
        {
            if (unmatched.Remove(configOf(job)))
            {
                keep.Add(job);
            }
        }
        return new ReloadPlan<TJob>(retire.ToImmutable(), keep.ToImmutable(), [.. unmatched]);
    }
}
