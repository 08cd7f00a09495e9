using Prometheus;

namespace Pilot.Supervisor.Telemetry;

/// <summary>The one way Pilot makes metric factories.</summary>
internal static class MetricFactories
{
    /// <summary>
    /// A factory on <paramref name="registry"/> without exemplars: Pilot has no traces to link, and prometheus-net's
    /// default exemplar reads <c>Activity.Current</c>, whose type initializer needs <c>/dev/urandom</c> (absent in some
    /// minimal images and runtimes) and then fails every metric update, so every event.
    /// </summary>
    public static IMetricFactory For(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        return factory;
    }
}
