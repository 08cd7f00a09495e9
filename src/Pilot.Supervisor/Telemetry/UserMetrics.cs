using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Hosting;
using Prometheus;

namespace Pilot.Supervisor.Telemetry;

/// <summary>
/// The user metrics of <c>telemetry.metrics</c>, fed through <c>POST /v3/metric</c>. A key matches a metric by its
/// exported name (<c>jobs_done</c>) or by v3's <c>namespace_subsystem_name</c> form (<c>__jobs_done</c>). A request is
/// applied only when every key is valid (an unknown name or a negative counter increment refuses all of it).
/// </summary>
public sealed class UserMetrics : IUserMetrics
{
    private static readonly double[] V3Buckets = [.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10];

    private readonly IMetricFactory _factory;
    private readonly Lock _gate = new();
    private Dictionary<string, UserMetric> _byKey = new(StringComparer.Ordinal);

    public UserMetrics(CollectorRegistry registry, ImmutableArray<MetricConfig> metrics)
    {
        _factory = MetricFactories.For(registry);
        Reconfigure(metrics);
    }

    public MetricPutResult Put(IReadOnlyDictionary<string, double> values)
    {
        lock (_gate)
        {
            var errors = new List<string>();
            var updates = new List<(UserMetric Metric, double Value)>();
            foreach (var (key, value) in values)
            {
                if (!_byKey.TryGetValue(key, out var metric))
                {
                    errors.Add($"unknown metric '{key}': not in telemetry.metrics");
                }
                else if (double.IsNaN(value) || double.IsInfinity(value))
                {
                    errors.Add($"metric '{key}': value {value} is not a finite number");
                }
                else if (metric.Config.Type == MetricType.Counter && value < 0)
                {
                    errors.Add($"metric '{key}' is a counter: it cannot decrease (got {value})");
                }
                else
                {
                    updates.Add((metric, value));
                }
            }
            if (errors.Count > 0)
            {
                return new MetricPutResult([.. errors]);
            }
            foreach (var (metric, value) in updates)
            {
                metric.Apply(value);
            }
            return MetricPutResult.Success;
        }
    }

    /// <summary>Keeps the values of metrics that still exist with the same type; unpublishes removed ones.</summary>
    public void Reconfigure(ImmutableArray<MetricConfig> metrics)
    {
        lock (_gate)
        {
            var previous = _byKey.Values.Distinct().ToDictionary(m => m.Config.ExportedName, StringComparer.Ordinal);
            var next = new Dictionary<string, UserMetric>(StringComparer.Ordinal);
            foreach (var config in metrics)
            {
                var metric = previous.TryGetValue(config.ExportedName, out var kept) && kept.Config.Type == config.Type
                    ? kept with { Config = config }
                    : Create(config);
                previous.Remove(config.ExportedName);
                next[config.ExportedName] = metric;
                next[config.V3Key] = metric;
            }
            foreach (var removed in previous.Values)
            {
                removed.Unpublish();
            }
            _byKey = next;
        }
    }

    private UserMetric Create(MetricConfig config) => config.Type switch
    {
        MetricType.Counter => new UserMetric(config, _factory.CreateCounter(config.ExportedName, config.Help)),
        MetricType.Gauge => new UserMetric(config, _factory.CreateGauge(config.ExportedName, config.Help)),
        MetricType.Histogram => new UserMetric(config, _factory.CreateHistogram(config.ExportedName, config.Help,
            new HistogramConfiguration { Buckets = config.Buckets is { } buckets ? [.. buckets] : V3Buckets })),
        _ => new UserMetric(config, _factory.CreateSummary(config.ExportedName, config.Help, new SummaryConfiguration
        {
            // v3's client_golang 0.8 defaults: 0.5/0.9/0.99 over a 10-minute window in 5 age buckets.
            Objectives = [new QuantileEpsilonPair(0.5, 0.05), new QuantileEpsilonPair(0.9, 0.01), new QuantileEpsilonPair(0.99, 0.001)],
            MaxAge = TimeSpan.FromMinutes(10),
            AgeBuckets = 5,
        })),
    };

    private sealed record UserMetric(MetricConfig Config, Collector Collector)
    {
        public void Apply(double value)
        {
            switch (Collector)
            {
                case Counter counter:
                    counter.Inc(value);
                    break;
                case Gauge gauge:
                    gauge.Set(value);
                    break;
                case Histogram histogram:
                    histogram.Observe(value);
                    break;
                case Summary summary:
                    summary.Observe(value);
                    break;
            }
        }

        public void Unpublish()
        {
            switch (Collector)
            {
                case Counter counter:
                    counter.Unpublish();
                    break;
                case Gauge gauge:
                    gauge.Unpublish();
                    break;
                case Histogram histogram:
                    histogram.Unpublish();
                    break;
                case Summary summary:
                    summary.Unpublish();
                    break;
            }
        }
    }
}
