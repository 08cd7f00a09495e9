using Pilot.Supervisor.Control;
using Pilot.Supervisor.Processes;
using Prometheus;

namespace Pilot.Supervisor.Telemetry;

/// <summary>
/// <c>pilot_job_cpu_seconds_total{job}</c> and <c>pilot_job_memory_bytes{job}</c>, read from <c>/proc</c> when
/// <c>/metrics</c> is scraped (a before-collect callback of the registry) and never otherwise, so an unscraped Pilot
/// does no work for them.
/// </summary>
/// <remarks>
/// The CPU counter is the current run's process group (<see cref="ProcessGroupUsage"/>): a new run (another pid) starts
/// it over, which Prometheus's <c>rate()</c> reads as a counter reset; between runs it keeps the last value read. The
/// memory gauge is 0 while the job has no process.
/// </remarks>
public sealed class JobUsageMetrics
{
    private readonly Counter _cpu;
    private readonly Gauge _memory;
    private readonly Func<IReadOnlyList<JobSnapshot>> _jobs;
    private readonly Dictionary<string, int> _runs = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public JobUsageMetrics(CollectorRegistry registry, Func<IReadOnlyList<JobSnapshot>> jobs)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _jobs = jobs;
        var factory = MetricFactories.For(registry);
        _cpu = factory.CreateCounter("pilot_job_cpu_seconds_total",
            "CPU time (user + system) of each job's process group in its current run, read from /proc at scrape time", ["job"]);
        _memory = factory.CreateGauge("pilot_job_memory_bytes",
            "resident memory (sum of RSS) of each job's process group, read from /proc at scrape time", ["job"]);
        registry.AddBeforeCollectCallback(Update);
    }

    /// <summary>Reads every job's process group once and sets the series (also called by tests).</summary>
    public void Update()
    {
        var jobs = _jobs();
        var usage = ProcessGroupUsage.Read([.. jobs.Where(j => j.Pid is not null).Select(j => j.Pid!.Value)]);
        lock (_gate)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var job in jobs)
            {
                if (!seen.Add(job.Name))
                {
                    continue; // names may repeat (v3 does not check): the first speaks for it
                }
                if (job.Pid is not { } pid || !usage.TryGetValue(pid, out var group))
                {
                    _memory.WithLabels(job.Name).Set(0);
                    if (!_runs.ContainsKey(job.Name))
                    {
                        _cpu.WithLabels(job.Name).IncTo(0);
                        _runs[job.Name] = 0;
                    }
                    continue;
                }
                if (_runs.TryGetValue(job.Name, out var run) && run != pid && run != 0)
                {
                    _cpu.RemoveLabelled(job.Name); // a new run: the counter starts over
                }
                _runs[job.Name] = pid;
                _cpu.WithLabels(job.Name).IncTo(group.CpuSeconds);
                _memory.WithLabels(job.Name).Set(group.RssBytes);
            }
            foreach (var gone in _runs.Keys.Where(name => !seen.Contains(name)).ToList())
            {
                _runs.Remove(gone);
                _cpu.RemoveLabelled(gone);
                _memory.RemoveLabelled(gone);
            }
        }
    }
}
